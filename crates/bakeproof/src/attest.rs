//! `bakeproof key`, `bakeproof attest`, `bakeproof verify-attestation` (CLI side).
//! Formats and rules: docs/attest.md; the work is in `bakeproof-attest`.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bakeproof_attest::statement::{self, DEFAULT_INLINE_SBOM_MAX};
use bakeproof_attest::{AmiRef, PredicateKind, PrivateKey, PublicKey, VerifyPolicy};
use clap::{Args, Subcommand, ValueEnum};

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Write a cosign-compatible key pair: PREFIX.key (encrypted ECDSA P-256,
    /// mode 0600) and PREFIX.pub. Password from COSIGN_PASSWORD or a prompt.
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// File name prefix of the pair.
    #[arg(long, default_value = "cosign")]
    prefix: String,
    /// Directory to write the pair into.
    #[arg(long, default_value = ".")]
    output_dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct AttestArgs {
    /// The CycloneDX SBOM written by `bakeproof scan`.
    #[arg(long)]
    sbom: PathBuf,
    /// The seal report written by `bakeproof seal check --format json` (or
    /// `bakeproof scan --seal-report`). It must name the SBOM's tree digest
    /// and be sealed.
    #[arg(long)]
    seal: PathBuf,
    /// Attest an unsealed seal report too (its signed status says so, and
    /// `bakeproof verify` fails the instance at boot).
    #[arg(long)]
    allow_unsealed: bool,
    /// The cosign private key (password from COSIGN_PASSWORD or a prompt).
    #[arg(long)]
    key: PathBuf,
    /// Packer's manifest: the AMIs of the build of its last_run_uuid.
    #[arg(long, conflicts_with = "ami", required_unless_present = "ami")]
    packer_manifest: Option<PathBuf>,
    /// An AMI the image was published as, REGION:AMI-ID (repeatable).
    #[arg(long, value_name = "REGION:AMI-ID")]
    ami: Vec<String>,
    /// Output directory (bundles and index.json).
    #[arg(short, long)]
    output: PathBuf,
    /// SBOMs larger than this many bytes are attested by digest-pinned
    /// reference (and copied to the output directory) instead of inline.
    #[arg(long, default_value_t = DEFAULT_INLINE_SBOM_MAX, value_name = "BYTES")]
    inline_sbom_max: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum TypeArg {
    Sbom,
    Seal,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Sigstore bundles to verify.
    #[arg(required = true)]
    bundles: Vec<PathBuf>,
    /// The trusted public key (cosign.pub).
    #[arg(long)]
    key: PathBuf,
    /// Require this AMI (REGION:AMI-ID) among the subjects.
    #[arg(long, value_name = "REGION:AMI-ID")]
    ami: Option<String>,
    /// Require this kind of predicate.
    #[arg(long = "type", value_enum)]
    kind: Option<TypeArg>,
    /// The SBOM a digest-pinned SBOM reference must match (default: the
    /// referenced file name beside the bundle, when it exists).
    #[arg(long)]
    sbom: Option<PathBuf>,
    /// Accept a digest-pinned SBOM reference without the SBOM it pins
    /// (signature, subjects and tree digest only). Without it, a reference
    /// whose SBOM is neither given nor beside the bundle fails: fail-closed.
    #[arg(long)]
    allow_missing_sbom: bool,
}

fn read(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("{}", p.display()))
}

pub fn run_key(cmd: KeyCommand) -> Result<u8> {
    let KeyCommand::Generate(a) = cmd;
    let key_path = a.output_dir.join(format!("{}.key", a.prefix));
    let pub_path = a.output_dir.join(format!("{}.pub", a.prefix));
    // symlink_metadata: a dangling symlink counts as existing (it is not
    // followed); both files are then created O_EXCL, which never follows one.
    for p in [&key_path, &pub_path] {
        if p.symlink_metadata().is_ok() {
            bail!("{} exists: not overwriting", p.display());
        }
    }
    let password = bakeproof_attest::keys::read_password(true)?;
    let key = PrivateKey::generate();
    let pem = key.to_encrypted_pem(password.as_bytes())?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_path)
        .with_context(|| format!("{}", key_path.display()))?;
    f.write_all(pem.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("{}", key_path.display()))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&pub_path)
        .with_context(|| format!("{}", pub_path.display()))?;
    f.write_all(key.public_key().to_pem().as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("{}", pub_path.display()))?;
    eprintln!(
        "Private key written to {}\nPublic key written to {} (key id {})",
        key_path.display(),
        pub_path.display(),
        key.public_key().keyid()
    );
    Ok(0)
}

pub fn run_attest(a: AttestArgs) -> Result<u8> {
    // Before any prompt: a SOURCE_DATE_EPOCH that is set but unusable is an
    // error here as in scan and seal check.
    let epoch = crate::scan::resolved_source_date_epoch()?;
    let amis: Vec<AmiRef> = match &a.packer_manifest {
        Some(m) => statement::amis_from_packer_manifest(&read(m)?)
            .with_context(|| format!("{}", m.display()))?,
        None => {
            let mut v: Vec<AmiRef> = Vec::new();
            for s in &a.ami {
                let r = AmiRef::parse(s)?;
                if !v.contains(&r) {
                    v.push(r);
                }
            }
            v
        }
    };
    let sbom = read(&a.sbom)?;
    // The SBOM must name an image (a tree digest) before a password is asked
    // for: a packages-only SBOM proves no image and is refused here.
    let sbom_json: serde_json::Value =
        serde_json::from_slice(&sbom).with_context(|| format!("{}: not JSON", a.sbom.display()))?;
    let tree = bakeproof_attest::statement::tree_digest_of_sbom(&sbom_json)
        .with_context(|| format!("{}", a.sbom.display()))?;
    drop(sbom_json);
    // So must the seal report: of the same tree, consistent, sealed.
    let seal = read(&a.seal)?;
    let seal_json: serde_json::Value =
        serde_json::from_slice(&seal).with_context(|| format!("{}: not JSON", a.seal.display()))?;
    let facts = statement::check_seal_report(&seal_json, &tree)
        .with_context(|| format!("{} with {}", a.seal.display(), a.sbom.display()))?;
    drop(seal_json);
    if !facts.sealed {
        if !a.allow_unsealed {
            return Err(anyhow::Error::from(bakeproof_attest::InputError::Unsealed(
                statement::unsealed_reason(&facts),
            )))
            .with_context(|| format!("{}", a.seal.display()));
        }
        eprintln!(
            "bakeproof: warning: attesting an unsealed image ({}): --allow-unsealed",
            statement::unsealed_reason(&facts)
        );
    }
    let key_pem = read(&a.key)?;
    let password = bakeproof_attest::keys::read_password(false)?;
    let key = PrivateKey::from_encrypted_pem(&key_pem, password.as_bytes())
        .with_context(|| format!("{}", a.key.display()))?;
    drop(password);
    let index = bakeproof_attest::attest(
        &bakeproof_attest::AttestRequest {
            sbom: &sbom,
            seal: &seal,
            amis: &amis,
            key: &key,
            inline_sbom_max: a.inline_sbom_max,
            allow_unsealed: a.allow_unsealed,
            tool_version: env!("CARGO_PKG_VERSION"),
            created: bakeproof_attest::created_time(epoch),
        },
        &a.output,
    )?;
    for f in &index.files {
        eprintln!(
            "wrote {} {}",
            a.output.join(&f.file).display(),
            f.predicate_type.as_deref().unwrap_or("")
        );
    }
    let names: Vec<String> = amis.iter().map(AmiRef::subject_name).collect();
    eprintln!(
        "subjects: {} (tree sha256:{}), key id {}",
        names.join(", "),
        index.tree_digest.sha256,
        index.keyid
    );
    Ok(0)
}

pub fn run_verify(a: VerifyArgs) -> Result<u8> {
    let key =
        PublicKey::from_pem(&read(&a.key)?).with_context(|| format!("{}", a.key.display()))?;
    let mut policy = VerifyPolicy::new(key);
    policy.ami = a.ami.as_deref().map(AmiRef::parse).transpose()?;
    policy.kind = a.kind.map(|k| match k {
        TypeArg::Sbom => PredicateKind::Sbom,
        TypeArg::Seal => PredicateKind::Seal,
    });
    let sbom_given = a.sbom.as_deref().map(read).transpose()?;
    let inputs: Vec<(PathBuf, Vec<u8>)> = a
        .bundles
        .iter()
        .map(|p| read(p).map(|b| (p.clone(), b)))
        .collect::<Result<_>>()?;
    let mut invalid = 0;
    // (path, kind, tree digest) of every bundle that verified: an SBOM and a
    // seal attestation given together must pair up by tree digest.
    let mut verified: Vec<(String, PredicateKind, String)> = Vec::new();
    for (path, bytes) in &inputs {
        let shown = path.display();
        match bakeproof_attest::verify_bundle(bytes, &policy) {
            Err(e) => {
                invalid += 1;
                println!("{shown}: INVALID: {e}");
            }
            Ok(v) => {
                let mut note = String::new();
                if let Some(r) = &v.sbom_ref {
                    let beside = path.parent().unwrap_or(Path::new(".")).join(&r.uri);
                    let plain = !r.uri.contains('/') && r.uri != ".." && r.uri != ".";
                    let sbom = match &sbom_given {
                        Some(b) => Some(b.clone()),
                        None if plain && beside.is_file() => Some(read(&beside)?),
                        None => None,
                    };
                    match sbom {
                        Some(b) => {
                            if let Err(e) = r.check(&b) {
                                invalid += 1;
                                println!("{shown}: INVALID: {e}");
                                continue;
                            }
                            note = format!(", SBOM {} matches", r.uri);
                        }
                        None if a.allow_missing_sbom => {
                            note = format!(", SBOM {} NOT checked (--allow-missing-sbom)", r.uri);
                        }
                        None => {
                            invalid += 1;
                            println!(
                                "{shown}: INVALID: the statement pins SBOM {} (sha256:{}) by \
                                 reference and it is neither beside the bundle nor given with \
                                 --sbom FILE (--allow-missing-sbom accepts the statement alone)",
                                r.uri, r.sha256
                            );
                            continue;
                        }
                    }
                }
                let amis: Vec<String> = v.amis.iter().map(ToString::to_string).collect();
                println!(
                    "{shown}: verified: {} for {} (tree sha256:{}, key id {}){note}",
                    v.predicate_type,
                    amis.join(", "),
                    v.tree_digest,
                    v.keyid
                );
                verified.push((shown.to_string(), v.kind, v.tree_digest.clone()));
            }
        }
    }
    // A crossed pair (one image's SBOM, another's seal report), each signed
    // and valid alone, is not a proof about either image.
    let is_seal = |k: &PredicateKind| matches!(k, PredicateKind::Seal);
    let has = |seal: bool, tree: &str| {
        verified
            .iter()
            .any(|(_, k, t)| is_seal(k) == seal && t == tree)
    };
    let both_kinds =
        verified.iter().any(|(_, k, _)| is_seal(k)) && verified.iter().any(|(_, k, _)| !is_seal(k));
    if both_kinds {
        for (shown, k, tree) in &verified {
            let (this, other) = if is_seal(k) {
                ("seal report", "SBOM")
            } else {
                ("SBOM", "seal report")
            };
            if !has(!is_seal(k), tree) {
                invalid += 1;
                println!(
                    "{shown}: INVALID: its {this} is of tree sha256:{tree}, and no {other} given \
                     with it is: the pair describes two images"
                );
            }
        }
    }
    Ok(if invalid > 0 { 1 } else { 0 })
}
