#!/usr/bin/env python3
"""Run SQL over a bakeproof Parquet store with DuckDB or Apache Spark (tests/fleet.rs).

Usage:
    fleet_sql.py --engine duckdb|spark --store DIR --queries QUERIES.json [--timings]

QUERIES.json is a JSON object {"name": "SQL text", ...}. Every table directory
that exists and holds at least one *.parquet file,

    DIR/tables/<name>/            (packages, seal, images, files, ...)
    DIR/reports/boot_results/

is registered as a view (DuckDB) or temporary view (Spark) named after the
directory, reading the Hive-style partition directories (region=.../ami=...,
region=.../date=...) with the partition columns kept as STRINGS and the
files' schemas merged by column name. Each query is run (one engine session
for all of them) and one JSON object is printed to stdout:

    {"name": [row, ...], ...}

where each row is an object column -> value (lists as arrays, integers as
integers, NULL as null). Keys are sorted and the rows of each query are
sorted by their JSON text, so the answers of the two engines compare equal
byte for byte. --timings writes the engine start time and each query's time
to stderr.

A table directory without any *.parquet file gets no view (as if absent).
On any error (bad arguments, a store that is not a directory, a query the
engine rejects) the script exits non-zero with the engine's message on stderr.
"""

import argparse
import datetime
import decimal
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time

TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UsageError(Exception):
    pass


def discover_tables(store):
    """[(view name, absolute directory)] of the table directories present in the store."""
    if not os.path.isdir(store):
        raise UsageError(f"store {store!r} is not a directory")
    candidates = []
    tables_dir = os.path.join(store, "tables")
    if os.path.isdir(tables_dir):
        for name in sorted(os.listdir(tables_dir)):
            path = os.path.join(tables_dir, name)
            if os.path.isdir(path):
                candidates.append((name, path))
    boot = os.path.join(store, "reports", "boot_results")
    if os.path.isdir(boot):
        candidates.append(("boot_results", boot))
    found = []
    seen = set()
    for name, path in candidates:
        if not TABLE_NAME.match(name):
            continue  # not usable as a SQL identifier (e.g. a stray directory)
        if name.lower() in seen:
            raise UsageError(f"table {name!r} appears twice in the store")
        if not has_parquet(path):
            continue  # an empty table directory: no view (as if absent)
        seen.add(name.lower())
        found.append((name, os.path.abspath(path)))
    return found


def has_parquet(path):
    for root, dirs, files in os.walk(path):
        # Spark skips files and directories whose names start with '_' or '.';
        # skip them here too so both engines see the same files.
        dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]
        if any(f.endswith(".parquet") and not f.startswith(("_", ".")) for f in files):
            return True
    return False


def load_queries(path):
    try:
        with open(path, encoding="utf-8") as f:
            queries = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read queries {path!r}: {e}")
    if not isinstance(queries, dict) or not queries:
        raise UsageError(f"{path}: expected a non-empty JSON object {{\"name\": \"SQL\", ...}}")
    for name, sql in queries.items():
        if not isinstance(sql, str) or not sql.strip():
            raise UsageError(f"{path}: query {name!r} is not a non-empty string")
    return queries


def to_json(value):
    """An engine's Python value as a JSON value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)  # JSON has no NaN/Infinity
        return value
    if isinstance(value, decimal.Decimal):
        # SUM over BIGINT is HUGEINT in DuckDB (a Python int) but DECIMAL in
        # some Spark paths: integral decimals become integers.
        if value == value.to_integral_value():
            return int(value)
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if hasattr(value, "asDict"):  # pyspark.sql.Row (a struct)
        return {str(k): to_json(v) for k, v in value.asDict(recursive=False).items()}
    if isinstance(value, dict):  # DuckDB struct/map, Spark map
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return str(value)


def make_rows(query_name, columns, tuples):
    dup = sorted({c for c in columns if columns.count(c) > 1})
    if dup:
        raise UsageError(
            f"query {query_name!r}: duplicate result column name(s) {dup}: give them distinct AS aliases"
        )
    rows = [{c: to_json(v) for c, v in zip(columns, t)} for t in tuples]
    rows.sort(key=canonical)
    return rows


def canonical(obj):
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sql_string(s):
    return "'" + s.replace("'", "''") + "'"


# ---- DuckDB -------------------------------------------------------------------


def run_duckdb(tables, queries, timings):
    import duckdb

    t0 = time.monotonic()
    con = duckdb.connect(":memory:", config={"threads": 2})
    try:
        # Accept the `x -> expr` lambdas of Spark SQL and Trino (DuckDB 1.3+
        # deprecates them for `lambda x: expr`), so one SQL text runs on both.
        try:
            con.execute("SET lambda_syntax = 'ENABLE_SINGLE_ARROW'")
        except duckdb.Error:
            pass  # a DuckDB without the setting accepts `->` anyway
        for name, path in tables:
            glob = os.path.join(path, "**", "*.parquet")
            con.execute(
                f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet({sql_string(glob)}, '
                "hive_partitioning = true, hive_types_autocast = false, union_by_name = true)"
            )
        timings("duckdb start + views", time.monotonic() - t0)
        out = {}
        for qname, sql in queries.items():
            t1 = time.monotonic()
            try:
                cur = con.execute(sql)
                columns = [d[0] for d in (cur.description or [])]
                tuples = cur.fetchall() if cur.description else []
            except duckdb.Error as e:
                raise EngineError(f"query {qname!r}: {type(e).__name__}: {e}")
            out[qname] = make_rows(qname, columns, tuples)
            timings(f"query {qname}", time.monotonic() - t1)
        return out
    finally:
        con.close()


# ---- Spark --------------------------------------------------------------------

LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
# A level of Spark's own (the same as the root's): then Spark keeps it and
# does not print 'Setting default log level to "WARN"' (pyspark counts as a shell).
logger.spark.name = org.apache.spark
logger.spark.level = error
"""


def run_spark(tables, queries, timings):
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineError("spark: no `java` on PATH and no JAVA_HOME (Debian: apt-get install default-jdk-headless)")
    scratch = tempfile.mkdtemp(prefix="fleet-sql-spark-")
    try:
        log4j = os.path.join(scratch, "log4j2.properties")
        with open(log4j, "w") as f:
            f.write(LOG4J2)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

        from pyspark.sql import SparkSession

        t0 = time.monotonic()
        java_opts = f"-Dlog4j.configurationFile=file:{log4j} -Djava.io.tmpdir={scratch}"
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("bakeproof-fleet-sql")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", "512m")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.extraJavaOptions", java_opts)
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
            .config("spark.sql.warehouse.dir", os.path.join(scratch, "warehouse"))
            .config("spark.local.dir", os.path.join(scratch, "local"))
            .getOrCreate()
        )
        try:
            spark.sparkContext.setLogLevel("ERROR")
            timings("spark session start", time.monotonic() - t0)
            from pyspark.errors import PySparkException
            from py4j.protocol import Py4JError

            t1 = time.monotonic()
            for name, path in tables:
                try:
                    df = (
                        spark.read.option("basePath", path)
                        .option("mergeSchema", "true")
                        .option("pathGlobFilter", "*.parquet")
                        .parquet(path)
                    )
                    df.createOrReplaceTempView(name)
                except (PySparkException, Py4JError) as e:
                    raise EngineError(f"table {name!r} ({path}): {type(e).__name__}: {e}")
            timings("spark views", time.monotonic() - t1)
            out = {}
            for qname, sql in queries.items():
                t1 = time.monotonic()
                try:
                    df = spark.sql(sql)
                    columns = list(df.columns)
                    tuples = [tuple(r) for r in df.collect()]
                except (PySparkException, Py4JError) as e:
                    raise EngineError(f"query {qname!r}: {type(e).__name__}: {e}")
                out[qname] = make_rows(qname, columns, tuples)
                timings(f"query {qname}", time.monotonic() - t1)
            return out
        finally:
            spark.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class EngineError(Exception):
    pass


def main(argv=None):
    p = argparse.ArgumentParser(description="Run SQL over a bakeproof Parquet store (DuckDB or Spark).")
    p.add_argument("--engine", required=True, choices=["duckdb", "spark"])
    p.add_argument("--store", required=True, help="store directory (holds tables/ and reports/)")
    p.add_argument("--queries", required=True, help='JSON file {"name": "SQL", ...}')
    p.add_argument("--timings", action="store_true", help="engine start and per-query times on stderr")
    args = p.parse_args(argv)

    def timings(what, seconds):
        if args.timings:
            print(f"fleet_sql[{args.engine}]: {what}: {seconds:.3f} s", file=sys.stderr)

    try:
        queries = load_queries(args.queries)
        tables = discover_tables(args.store)
        # A store without any table is no error here: a query naming a
        # missing table fails with the engine's own "table not found".
        run = run_duckdb if args.engine == "duckdb" else run_spark
        out = run(tables, queries, timings)
    except (UsageError, EngineError) as e:
        print(f"fleet_sql.py: {e}", file=sys.stderr)
        return 2 if isinstance(e, UsageError) else 1
    except Exception as e:  # an engine failure not caught above (JVM start, ...)
        print(f"fleet_sql.py: {args.engine}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    # UTF-8 whatever the locale (a C locale's stdout may be ASCII).
    sys.stdout.buffer.write((json.dumps(out, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
