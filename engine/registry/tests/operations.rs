//! The registry's operations against a real log store on disk, including reopening it: what
//! Confluent clients rely on (ids, versions, deletes, references, config, mode).

use std::sync::Arc;

use sluice_log::LogStore;
use sluice_registry::model::{Compatibility, Mode, SchemaReference, SchemaType};
use sluice_registry::registry::{SchemaInput, VersionSpec};
use sluice_registry::{RegistryError, SchemaRegistry};

fn avro(schema: &str) -> SchemaInput {
    SchemaInput {
        schema_type: SchemaType::Avro,
        schema: schema.to_string(),
        ..SchemaInput::default()
    }
}

fn record(name: &str, fields: &[(&str, &str)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(n, t)| format!(r#"{{"name":"{n}","type":{t}}}"#))
        .collect();
    format!(
        r#"{{"type":"record","name":"{name}","fields":[{}]}}"#,
        fields.join(",")
    )
}

fn open(dir: &std::path::Path) -> Arc<SchemaRegistry> {
    SchemaRegistry::open(LogStore::open(dir).unwrap()).unwrap()
}

#[test]
fn ids_versions_and_deletes_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = record("Order", &[("id", r#""int""#)]);
    let v2 = record(
        "Order",
        &[("id", r#""int""#), ("note", r#""string","default":"""#)],
    );
    let (id1, id2) = {
        let reg = open(dir.path());
        let id1 = reg.register("orders-value", avro(&v1), false).unwrap();
        // Registering the same schema again is idempotent.
        assert_eq!(reg.register("orders-value", avro(&v1), false).unwrap(), id1);
        let id2 = reg.register("orders-value", avro(&v2), false).unwrap();
        assert_ne!(id1, id2);
        // The same schema under another subject shares the id.
        assert_eq!(reg.register("audit-value", avro(&v1), false).unwrap(), id1);
        assert_eq!(reg.versions("orders-value", false).unwrap(), vec![1, 2]);
        // Soft delete v2, then register a third schema: versions keep counting.
        assert_eq!(
            reg.delete_version("orders-value", VersionSpec::Number(2), false)
                .unwrap(),
            2
        );
        assert_eq!(reg.versions("orders-value", false).unwrap(), vec![1]);
        assert_eq!(reg.versions("orders-value", true).unwrap(), vec![1, 2]);
        reg.set_compatibility(Some("orders-value"), Some(Compatibility::Full))
            .unwrap();
        reg.set_mode(Some("audit-value"), Some(Mode::Readonly))
            .unwrap();
        (id1, id2)
    };
    let reg = open(dir.path());
    assert_eq!(reg.versions("orders-value", false).unwrap(), vec![1]);
    assert!(
        reg.version("orders-value", VersionSpec::Number(2), true)
            .unwrap()
            .deleted
    );
    assert_eq!(
        reg.version("orders-value", VersionSpec::Latest, false)
            .unwrap()
            .id,
        id1
    );
    assert_eq!(reg.schema_by_id(id2).unwrap().0, SchemaType::Avro);
    assert_eq!(
        reg.subject_compatibility("orders-value", false).unwrap(),
        Compatibility::Full
    );
    assert_eq!(
        reg.subject_mode("audit-value", false).unwrap(),
        Mode::Readonly
    );
    assert!(matches!(
        reg.register("audit-value", avro(&v2), false),
        Err(RegistryError::ReadOnly(_))
    ));
    let v3 = record(
        "Order",
        &[("id", r#""int""#), ("gift", r#""boolean","default":false"#)],
    );
    let id3 = reg.register("orders-value", avro(&v3), false).unwrap();
    assert!(id3 > id2, "new ids continue after the old ones");
    assert_eq!(reg.versions("orders-value", false).unwrap(), vec![1, 3]);

    // Hard delete needs a soft delete first; after it the subject is gone for good.
    assert!(matches!(
        reg.delete_subject("orders-value", true),
        Err(RegistryError::SubjectNotSoftDeleted(_))
    ));
    assert_eq!(
        reg.delete_subject("orders-value", false).unwrap(),
        vec![1, 3]
    );
    assert_eq!(
        reg.delete_subject("orders-value", true).unwrap(),
        vec![1, 2, 3]
    );
    drop(reg);
    let reg = open(dir.path());
    assert!(matches!(
        reg.versions("orders-value", true),
        Err(RegistryError::SubjectNotFound(_))
    ));
    // Ids stay resolvable for data already written with them.
    assert!(reg.schema_by_id(id1).is_ok());
}

#[test]
fn compatibility_levels_guard_registration() {
    let dir = tempfile::tempdir().unwrap();
    let reg = open(dir.path());
    let v1 = record("User", &[("name", r#""string""#)]);
    let added_required = record("User", &[("name", r#""string""#), ("age", r#""int""#)]);
    reg.register("users-value", avro(&v1), false).unwrap();
    // BACKWARD (the default): a new field needs a default.
    let err = reg
        .register("users-value", avro(&added_required), false)
        .unwrap_err();
    assert!(matches!(err, RegistryError::Incompatible { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("READER_FIELD_MISSING_DEFAULT_VALUE"));
    // FORWARD: old readers ignore the new field, so it is fine.
    reg.set_compatibility(Some("users-value"), Some(Compatibility::Forward))
        .unwrap();
    reg.register("users-value", avro(&added_required), false)
        .unwrap();
    // NONE: anything goes.
    reg.set_compatibility(Some("users-value"), Some(Compatibility::None))
        .unwrap();
    reg.register("users-value", avro(r#""string""#), false)
        .unwrap();
    // Checking does not register.
    let problems = {
        reg.set_compatibility(Some("users-value"), Some(Compatibility::Backward))
            .unwrap();
        reg.check_compatibility("users-value", None, &avro(r#""int""#), false)
            .unwrap()
    };
    assert!(!problems.is_empty());
    assert_eq!(reg.versions("users-value", false).unwrap(), vec![1, 2, 3]);
}

#[test]
fn references_and_import_mode() {
    let dir = tempfile::tempdir().unwrap();
    let reg = open(dir.path());
    let customer = r#"{"type":"record","name":"Customer","namespace":"shop","fields":[{"name":"id","type":"long"}]}"#;
    let order = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"customer","type":"shop.Customer"}]}"#;
    reg.register("customer", avro(customer), false).unwrap();
    let with_ref = SchemaInput {
        references: vec![SchemaReference {
            name: "shop.Customer".into(),
            subject: "customer".into(),
            version: 1,
        }],
        ..avro(order)
    };
    let order_id = reg.register("orders-value", with_ref, false).unwrap();
    assert_eq!(
        reg.referenced_by("customer", VersionSpec::Number(1))
            .unwrap(),
        vec![order_id]
    );
    // A referenced version cannot be deleted.
    assert!(reg
        .delete_version("customer", VersionSpec::Number(1), false)
        .is_err());
    // Without the reference the schema does not parse.
    assert!(matches!(
        reg.register("bare-value", avro(order), false),
        Err(RegistryError::InvalidSchema(_))
    ));

    // IMPORT mode keeps the ids it is given.
    reg.set_mode(None, Some(Mode::Import)).unwrap();
    let imported = SchemaInput {
        id: Some(1000),
        version: Some(5),
        ..avro(r#""bytes""#)
    };
    assert_eq!(reg.register("imported", imported, false).unwrap(), 1000);
    assert_eq!(reg.versions("imported", false).unwrap(), vec![5]);
    reg.set_mode(None, Some(Mode::Readwrite)).unwrap();
    assert!(reg
        .register("other", avro(r#""float""#), false)
        .is_ok_and(|id| id == 1001));
}
