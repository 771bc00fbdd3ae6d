//! CycloneDX 1.6: the project's typed model of what bakeproof writes.
//!
//! `cyclonedx-bom` 0.8 writes CycloneDX up to 1.5. 1.6 is a superset of
//! 1.5 for everything bakeproof emits, except that a component's `author`
//! (a string) is deprecated for `authors` (organizational contacts). The
//! 1.6 document is therefore the 1.5 skeleton (metadata, OS and package
//! components, dependencies) read into this model, upgraded
//! ([`upgrade`]: `specVersion` `1.6`, `author` → `authors`), and written
//! from it. Every struct refuses unknown fields: a field the 1.5 encoder
//! starts writing cannot reach a 1.6 document without being modelled (and
//! checked against the 1.6 schema by the tests) here first.
//!
//! File components are streamed by the encoder for both versions: their
//! 1.5 form is valid 1.6 (`type`, `bom-ref`, `name`, `hashes`,
//! `properties`).

use serde::{Deserialize, Serialize};

use super::EncodeError;

/// The document skeleton.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bom {
    pub bom_format: String,
    pub spec_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    pub version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<Component>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<Dependency>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Tools>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<Component>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Vec<Property>>,
}

/// `metadata.tools` in the object form (1.5's, still 1.6's).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tools {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<Component>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Component {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<OrganizationalEntity>,
    /// 1.6: the people who made the component (1.5's `author` string, split
    /// into a name and an e-mail address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authors: Option<Vec<OrganizationalContact>>,
    /// 1.5's form; deprecated in 1.6 and never written by [`upgrade`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Vec<Hash>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licenses: Option<Vec<LicenseChoice>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Vec<Property>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationalEntity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationalContact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hash {
    pub alg: String,
    pub content: String,
}

/// One entry of `licenses`: a licence (by SPDX id or name) or one SPDX
/// expression.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LicenseChoice {
    License { license: License },
    Expression { expression: String },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct License {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Property {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dependency {
    #[serde(rename = "ref")]
    pub dependency_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<String>>,
}

/// `Name <address>` as a contact (`name` alone when there is no address).
pub fn contact(text: &str) -> OrganizationalContact {
    let text = text.trim();
    if let Some((name, rest)) = text.split_once('<')
        && let Some(email) = rest.strip_suffix('>')
        && !email.contains(['<', '>'])
    {
        let name = name.trim();
        return OrganizationalContact {
            name: (!name.is_empty()).then(|| name.to_owned()),
            email: Some(email.trim().to_owned()),
        };
    }
    OrganizationalContact {
        name: Some(text.to_owned()),
        email: None,
    }
}

fn upgrade_component(c: &mut Component) {
    if let Some(a) = c.author.take() {
        c.authors = Some(vec![contact(&a)]);
    }
}

/// The 1.5 skeleton `cyclonedx-bom` wrote (parsed), as a 1.6 document.
pub fn upgrade(v: serde_json::Value) -> Result<serde_json::Value, EncodeError> {
    let mut bom: Bom = serde_json::from_value(v)
        .map_err(|e| EncodeError::Write(format!("CycloneDX 1.6 model: {e}")))?;
    bom.spec_version = "1.6".into();
    if let Some(m) = &mut bom.metadata {
        if let Some(c) = &mut m.component {
            upgrade_component(c);
        }
        for c in m
            .tools
            .iter_mut()
            .flat_map(|t| t.components.iter_mut().flatten())
        {
            upgrade_component(c);
        }
    }
    for c in bom.components.iter_mut().flatten() {
        upgrade_component(c);
    }
    serde_json::to_value(&bom).map_err(|e| EncodeError::Write(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts() {
        let c = contact("Debian Foo Maintainers <foo@lists.debian.org>");
        assert_eq!(c.name.as_deref(), Some("Debian Foo Maintainers"));
        assert_eq!(c.email.as_deref(), Some("foo@lists.debian.org"));
        let c = contact("Red Hat, Inc.");
        assert_eq!(c.name.as_deref(), Some("Red Hat, Inc."));
        assert_eq!(c.email, None);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let v = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
            "version": 1, "components": [{"type": "library", "name": "x", "scope": "required"}]});
        assert!(upgrade(v).is_err());
        let v = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
            "version": 1, "components": [{"type": "library", "name": "x", "author": "A <a@b>"}]});
        let up = upgrade(v).unwrap();
        assert_eq!(up["specVersion"], "1.6");
        assert_eq!(
            up["components"][0]["authors"],
            serde_json::json!([{"name": "A", "email": "a@b"}])
        );
        assert!(up["components"][0].get("author").is_none());
    }
}
