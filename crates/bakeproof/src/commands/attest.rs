//! `bakeproof key`, `bakeproof attest`, `bakeproof verify-attestation`.
//! Formats and rules: docs/attest.md; the work is in `bakeproof-attest`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use bakeproof_attest::keys::KeyPairFiles;
use bakeproof_attest::statement;
use bakeproof_attest::{AmiRef, PredicateKind, PrivateKey, PublicKey, Signer, VerifyPolicy};
use bakeproof_kms::{KmsKeyRef, KmsOptions, KmsSigner};

use super::resolved_source_date_epoch;
use crate::args::attest::{
    AttestArgs, GenerateArgs, KeyCommand, PublicArgs, SigningKeyArgs, TypeArg, VerifyArgs,
};
use crate::output::{read_password, warn, write_output};

fn read(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("{}", p.display()))
}

/// The signer `--key` names: an AWS KMS key (`awskms://...`: its public
/// key read and its spec checked now, nothing signed yet), else a cosign key
/// file (read, then the password asked for).
pub fn open_signer(k: &SigningKeyArgs) -> Result<Box<dyn Signer>> {
    if KmsKeyRef::is_kms(&k.key) {
        let r = KmsKeyRef::parse(&k.key)?;
        let opts = KmsOptions {
            region: k.region.clone(),
        };
        return Ok(Box::new(KmsSigner::open(&r, &opts)?));
    }
    let path = Path::new(&k.key);
    let key_pem = read(path)?;
    let password = read_password(false)?;
    let key = PrivateKey::from_encrypted_pem(&key_pem, password.as_bytes())
        .with_context(|| format!("{}", path.display()))?;
    Ok(Box::new(key))
}

pub fn run_key(cmd: KeyCommand) -> Result<u8> {
    match cmd {
        KeyCommand::Generate(a) => run_generate(a),
        KeyCommand::Public(a) => run_public(a),
    }
}

/// `key public`: the PEM of the signing key's public key, the same bytes
/// (and key id) for a key file and for the KMS key holding the same key.
fn run_public(a: PublicArgs) -> Result<u8> {
    let signer = open_signer(&a.key)?;
    let public = signer.public_key();
    let pem = public.to_pem();
    match &a.output {
        Some(p) => {
            write_output(Some(p), |w| Ok(w.write_all(pem.as_bytes())?))?;
            eprintln!(
                "Public key written to {} (key id {})",
                p.display(),
                public.keyid()
            );
        }
        None => crate::output::print_text(&pem)?,
    }
    Ok(0)
}

fn run_generate(a: GenerateArgs) -> Result<u8> {
    let files = KeyPairFiles::new(&a.output_dir, &a.prefix);
    files.check_absent()?;
    let password = read_password(true)?;
    let key = PrivateKey::generate();
    files.write(&key, password.as_bytes())?;
    eprintln!(
        "Private key written to {}\nPublic key written to {} (key id {})",
        files.private.display(),
        files.public.display(),
        key.public_key().keyid()
    );
    Ok(0)
}

/// The AMIs to attest: the Packer manifest's, or the `--ami` flags' (each
/// once, in order).
fn amis(a: &AttestArgs) -> Result<Vec<AmiRef>> {
    Ok(match &a.packer_manifest {
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
    })
}

pub fn run_attest(a: AttestArgs) -> Result<u8> {
    // Before any prompt: a SOURCE_DATE_EPOCH that is set but unusable is an
    // error here as in scan and seal check.
    let epoch = resolved_source_date_epoch()?;
    let amis = amis(&a)?;
    let sbom = read(&a.sbom)?;
    // The SBOM must name an image (a tree digest) before a password is asked
    // for: a packages-only SBOM proves no image and is refused here.
    let sbom_json: serde_json::Value =
        serde_json::from_slice(&sbom).with_context(|| format!("{}: not JSON", a.sbom.display()))?;
    let tree = statement::tree_digest_of_sbom(&sbom_json)
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
        warn(format_args!(
            "attesting an unsealed image ({}): --allow-unsealed",
            statement::unsealed_reason(&facts)
        ));
    }
    // And the audit report, when given: of the same tree, consistent, passing.
    let audit = a.audit.as_deref().map(read).transpose()?;
    if let (Some(bytes), Some(path)) = (&audit, &a.audit) {
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .with_context(|| format!("{}: not JSON", path.display()))?;
        let facts = statement::check_audit_report(&v, &tree)
            .with_context(|| format!("{} with {}", path.display(), a.sbom.display()))?;
        if !facts.passed {
            if !a.allow_failing_audit {
                return Err(anyhow::Error::from(
                    bakeproof_attest::InputError::AuditFailed(facts.failing.join(", ")),
                ))
                .with_context(|| format!("{}", path.display()));
            }
            warn(format_args!(
                "attesting a failing audit (ng: {}): --allow-failing-audit",
                facts.failing.join(", ")
            ));
        }
    }
    let key = open_signer(&a.key)?;
    let index = bakeproof_attest::attest(
        &bakeproof_attest::AttestRequest {
            sbom: &sbom,
            seal: &seal,
            amis: &amis,
            key: key.as_ref(),
            inline_sbom_max: a.inline_sbom_max,
            allow_unsealed: a.allow_unsealed,
            audit: audit.as_deref(),
            allow_failing_audit: a.allow_failing_audit,
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

/// The verification policy from the flags.
fn policy(a: &VerifyArgs) -> Result<VerifyPolicy> {
    let key =
        PublicKey::from_pem(&read(&a.key)?).with_context(|| format!("{}", a.key.display()))?;
    let mut policy = VerifyPolicy::new(key);
    policy.ami = a.ami.as_deref().map(AmiRef::parse).transpose()?;
    policy.kind = a.kind.map(|k| match k {
        TypeArg::Sbom => PredicateKind::Sbom,
        TypeArg::Seal => PredicateKind::Seal,
        TypeArg::Audit => PredicateKind::Audit,
    });
    Ok(policy)
}

pub fn run_verify(a: VerifyArgs) -> Result<u8> {
    let policy = policy(&a)?;
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
                    let sbom = match (&sbom_given, r.beside(path)) {
                        (Some(b), _) => Some(b.clone()),
                        (None, Some(beside)) if beside.is_file() => Some(read(&beside)?),
                        (None, _) => None,
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
    let kinds: Vec<(PredicateKind, &str)> =
        verified.iter().map(|(_, k, t)| (*k, t.as_str())).collect();
    for i in bakeproof_attest::verify::unpaired(&kinds) {
        let (shown, k, tree) = &verified[i];
        let (this, other) = match k {
            PredicateKind::Seal => ("seal report", "SBOM"),
            PredicateKind::Sbom => ("SBOM", "seal report"),
            PredicateKind::Audit => ("audit report", "SBOM or seal report"),
        };
        invalid += 1;
        println!(
            "{shown}: INVALID: its {this} is of tree sha256:{tree}, and no {other} given \
             with it is: the pair describes two images"
        );
    }
    Ok(if invalid > 0 { 1 } else { 0 })
}
