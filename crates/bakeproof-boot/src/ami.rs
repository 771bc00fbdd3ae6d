//! Which AMI this instance runs: given by the caller, or from IMDSv2
//! (`meta-data/ami-id` and `placement/region`; with identity certificates,
//! the signed identity document must verify and name the same AMI,
//! instance and region).

use bakeproof_attest::AmiRef;
use bakeproof_imds::{Client, IdentityCert, ImdsConfig};

use crate::config::AmiChoice;
use crate::report::{AmiInfo, AmiSource, Check, InstanceInfo};
use crate::verify::Stop;

/// The AMI and, from IMDS, the instance.
pub(crate) struct Resolved {
    pub(crate) ami: AmiInfo,
    pub(crate) instance: Option<InstanceInfo>,
    /// The `ami` check.
    pub(crate) check: Check,
}

pub(crate) fn resolve(
    choice: &AmiChoice,
    imds: &ImdsConfig,
    certs: &[IdentityCert],
) -> Result<Resolved, Stop> {
    match choice {
        AmiChoice::Given(a) => Ok(Resolved {
            check: Check::pass("ami", format!("{a} (given)")),
            ami: AmiInfo {
                ami: a.clone(),
                source: AmiSource::Argument,
            },
            instance: None,
        }),
        AmiChoice::Imds => {
            let client = Client::new(imds.clone());
            let info = client.instance_info(certs).map_err(|e| {
                if e.is_unreachable() {
                    Stop::Unreachable(e.to_string())
                } else {
                    Stop::Failed("ami", e.to_string())
                }
            })?;
            let a = AmiRef::parse(&format!("{}:{}", info.region, info.ami_id))
                .map_err(|e| Stop::Failed("ami", format!("IMDS at {}: {e}", imds.endpoint)))?;
            let how = match &info.identity_verified_by {
                Some(c) => format!("identity document verified by {c}"),
                None => "identity document not checked (no --identity-cert)".into(),
            };
            Ok(Resolved {
                check: Check::pass(
                    "ami",
                    format!("{a} from IMDS, instance {} ({how})", info.instance_id),
                ),
                ami: AmiInfo {
                    ami: a,
                    source: AmiSource::Imds,
                },
                instance: Some(InstanceInfo {
                    instance_id: info.instance_id,
                    identity_verified_by: info.identity_verified_by,
                    launch_time: info.launch_time,
                }),
            })
        }
    }
}

/// The OpenSSH public keys IMDS gave the instance (the `first-boot`
/// check's `authorized_keys`), and how the detail names them; with a given
/// AMI IMDS is not asked and no key was given.
pub(crate) fn given_keys(
    choice: &AmiChoice,
    imds: &ImdsConfig,
) -> Result<(Vec<String>, String), String> {
    match choice {
        AmiChoice::Given(_) => Ok((Vec::new(), "no key given (--ami: IMDS not asked)".into())),
        AmiChoice::Imds => {
            let keys = Client::new(imds.clone())
                .public_keys()
                .map_err(|e| format!("public keys from IMDS: {e}"))?;
            let n = keys.len();
            Ok((keys, format!("{n} key(s) given by IMDS")))
        }
    }
}
