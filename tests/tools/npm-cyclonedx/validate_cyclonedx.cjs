// Validates CycloneDX JSON files with @cyclonedx/cyclonedx-library's
// JsonStrictValidator (the library's bundled official schema, ajv with
// formats), each against the specVersion it declares.
// usage: NODE_PATH=.../node_modules node validate_cyclonedx.cjs FILE...
// Exit 0 when every FILE is valid, 1 otherwise (errors on stderr).
'use strict';
const fs = require('fs');
const CDX = require('@cyclonedx/cyclonedx-library');

async function main(files) {
  let bad = false;
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    const version = JSON.parse(text).specVersion;
    const validator = new CDX.Validation.JsonStrictValidator(version);
    const errors = await validator.validate(text);
    if (errors === null) {
      console.log(`${f}: valid CycloneDX ${version}`);
    } else {
      bad = true;
      console.error(`${f}: invalid CycloneDX ${version}: ${JSON.stringify(errors, null, 1).slice(0, 20000)}`);
    }
  }
  process.exit(bad ? 1 : 0);
}

main(process.argv.slice(2)).catch((e) => { console.error(e); process.exit(2); });
