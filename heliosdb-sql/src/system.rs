//! `pg_catalog` and `information_schema` as relations: computed from the SQL
//! layer's table definitions when a statement reads them, then joined,
//! filtered, grouped and projected by the executor like any table. Nothing
//! is answered by matching statement text.
//!
//! A relation is named `pg_catalog.<name>` or `information_schema.<name>`
//! (or a bare `pg_*` catalog name when no user table has it, as PostgreSQL
//! finds `pg_catalog` first on its search path); [`qualify`] rewrites those
//! references to one identifier the executor passes to the store (`pg_class`
//! — so `pg_class.relname` still resolves — and
//! `information_schema.tables`), which serves them from here. They are
//! read-only.
//!
//! OIDs: the built-in types keep PostgreSQL's OIDs (drivers hard-code
//! them); a table, index or constraint gets a stable OID from its name.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use gluesql_core::ast::{ColumnDef, ColumnUniqueOption, DataType as GType};
use gluesql_core::data::{Key, Schema as GSchema, Value as G};
use gluesql_core::sqlparser::ast::{
    visit_expressions_mut, visit_relations_mut, Expr, Ident, ObjectName, Statement,
    Value as SqlValue,
};
use heliosdb_core::DataType;

use crate::convert::pg_type_name;
use crate::store::TableInfo;

/// OIDs of the schemas.
const PG_CATALOG_OID: i64 = 11;
const PUBLIC_OID: i64 = 2200;
const INFORMATION_SCHEMA_OID: i64 = 13_000;
/// The database's OID (`pg_database`).
const DATABASE_OID: i64 = 16_384;
/// The owner's OID (`pg_roles`).
const OWNER_OID: i64 = 10;

/// What a statement's reader knows about its session.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub database: String,
    pub user: String,
    /// `SHOW ALL`: name, setting, description.
    pub settings: Vec<[String; 3]>,
    /// The views (see [`crate::objects`]).
    pub views: Vec<crate::objects::ViewDef>,
    /// The sequences, SERIAL ones included.
    pub sequences: Vec<crate::objects::SeqInfo>,
}

/// A system relation: its qualified name and columns.
struct Relation {
    name: &'static str,
    columns: &'static [(&'static str, GType)],
}

use GType::{Boolean as B, Int as I8, Int16 as I2, Int32 as I4, Text as T};

const RELATIONS: &[Relation] = &[
    Relation {
        name: "pg_namespace",
        columns: &[("oid", I8), ("nspname", T), ("nspowner", I8)],
    },
    Relation {
        name: "pg_class",
        columns: &[
            ("oid", I8),
            ("relname", T),
            ("relnamespace", I8),
            ("reltype", I8),
            ("relowner", I8),
            ("relkind", T),
            ("relpersistence", T),
            ("reltuples", GType::Float),
            ("relhasindex", B),
            ("relchecks", I2),
            ("relispartition", B),
            ("relnatts", I2),
            ("relam", I8),
            ("reloptions", T),
            ("reltablespace", I8),
        ],
    },
    // Inheritance and tablespaces do not exist here: no parent tables, and
    // every relation lives in the default tablespace (reltablespace 0).
    Relation {
        name: "pg_inherits",
        columns: &[
            ("inhrelid", I8),
            ("inhparent", I8),
            ("inhseqno", I4),
            ("inhdetachpending", B),
        ],
    },
    Relation {
        name: "pg_tablespace",
        columns: &[("oid", I8), ("spcname", T), ("spcowner", I8)],
    },
    Relation {
        name: "pg_am",
        columns: &[("oid", I8), ("amname", T), ("amtype", T)],
    },
    Relation {
        name: "pg_opclass",
        columns: &[
            ("oid", I8),
            ("opcmethod", I8),
            ("opcname", T),
            ("opcnamespace", I8),
            ("opcintype", I8),
            ("opcdefault", B),
        ],
    },
    Relation {
        name: "pg_attribute",
        columns: &[
            ("attrelid", I8),
            ("attname", T),
            ("atttypid", I8),
            ("attlen", I2),
            ("attnum", I2),
            ("atttypmod", I4),
            ("attnotnull", B),
            ("atthasdef", B),
            ("attidentity", T),
            ("attgenerated", T),
            ("attisdropped", B),
            ("attcollation", I8),
        ],
    },
    Relation {
        name: "pg_type",
        columns: &[
            ("oid", I8),
            ("typname", T),
            ("typnamespace", I8),
            ("typowner", I8),
            ("typlen", I2),
            ("typtype", T),
            ("typcategory", T),
            ("typdelim", T),
            ("typrelid", I8),
            ("typelem", I8),
            ("typarray", I8),
            ("typbasetype", I8),
            ("typnotnull", B),
            ("typtypmod", I4),
            ("typcollation", I8),
        ],
    },
    Relation {
        name: "pg_collation",
        columns: &[("oid", I8), ("collname", T), ("collnamespace", I8)],
    },
    Relation {
        name: "pg_sequence",
        columns: &[
            ("seqrelid", I8),
            ("seqtypid", I8),
            ("seqstart", I8),
            ("seqincrement", I8),
            ("seqmax", I8),
            ("seqmin", I8),
            ("seqcache", I8),
            ("seqcycle", B),
        ],
    },
    Relation {
        name: "pg_index",
        columns: &[
            ("indexrelid", I8),
            ("indrelid", I8),
            ("indnatts", I2),
            ("indisunique", B),
            ("indisprimary", B),
            ("indkey", T),
            ("indnkeyatts", I2),
            ("indisvalid", B),
            ("indnullsnotdistinct", B),
            ("indclass", T),
            ("indoption", T),
            ("indpred", T),
        ],
    },
    Relation {
        name: "pg_constraint",
        columns: &[
            ("oid", I8),
            ("conname", T),
            ("connamespace", I8),
            ("contype", T),
            ("conrelid", I8),
            ("conindid", I8),
            ("confrelid", I8),
            ("confupdtype", T),
            ("confdeltype", T),
            ("conkey", T),
            ("confkey", T),
        ],
    },
    Relation {
        name: "pg_database",
        columns: &[
            ("oid", I8),
            ("datname", T),
            ("datdba", I8),
            ("encoding", I4),
            ("datcollate", T),
            ("datctype", T),
            ("datistemplate", B),
            ("datallowconn", B),
        ],
    },
    Relation {
        name: "pg_roles",
        columns: &[
            ("oid", I8),
            ("rolname", T),
            ("rolsuper", B),
            ("rolinherit", B),
            ("rolcreaterole", B),
            ("rolcreatedb", B),
            ("rolcanlogin", B),
        ],
    },
    Relation {
        name: "pg_settings",
        columns: &[
            ("name", T),
            ("setting", T),
            ("short_desc", T),
            ("context", T),
            ("vartype", T),
            ("source", T),
        ],
    },
    Relation {
        name: "pg_tables",
        columns: &[
            ("schemaname", T),
            ("tablename", T),
            ("tableowner", T),
            ("tablespace", T),
            ("hasindexes", B),
            ("hasrules", B),
            ("hastriggers", B),
            ("rowsecurity", B),
        ],
    },
    Relation {
        name: "pg_indexes",
        columns: &[
            ("schemaname", T),
            ("tablename", T),
            ("indexname", T),
            ("tablespace", T),
            ("indexdef", T),
        ],
    },
    Relation {
        name: "pg_description",
        columns: &[
            ("objoid", I8),
            ("classoid", I8),
            ("objsubid", I4),
            ("description", T),
        ],
    },
    Relation {
        name: "pg_attrdef",
        columns: &[("oid", I8), ("adrelid", I8), ("adnum", I2), ("adbin", T)],
    },
    Relation {
        name: "pg_proc",
        columns: &[
            ("oid", I8),
            ("proname", T),
            ("pronamespace", I8),
            ("prorettype", I8),
        ],
    },
    Relation {
        name: "pg_views",
        columns: &[
            ("schemaname", T),
            ("viewname", T),
            ("viewowner", T),
            ("definition", T),
        ],
    },
    Relation {
        name: "pg_sequences",
        columns: &[
            ("schemaname", T),
            ("sequencename", T),
            ("sequenceowner", T),
            ("data_type", T),
            ("start_value", I8),
            ("min_value", I8),
            ("max_value", I8),
            ("increment_by", I8),
            ("cycle", B),
            ("cache_size", I8),
            ("last_value", I8),
        ],
    },
    Relation {
        name: "pg_extension",
        columns: &[("oid", I8), ("extname", T), ("extversion", T)],
    },
    Relation {
        name: "information_schema.schemata",
        columns: &[("catalog_name", T), ("schema_name", T), ("schema_owner", T)],
    },
    Relation {
        name: "information_schema.tables",
        columns: &[
            ("table_catalog", T),
            ("table_schema", T),
            ("table_name", T),
            ("table_type", T),
            ("is_insertable_into", T),
        ],
    },
    Relation {
        name: "information_schema.columns",
        columns: &[
            ("table_catalog", T),
            ("table_schema", T),
            ("table_name", T),
            ("column_name", T),
            ("ordinal_position", I4),
            ("column_default", T),
            ("is_nullable", T),
            ("data_type", T),
            ("character_maximum_length", I4),
            ("numeric_precision", I4),
            ("numeric_scale", I4),
            ("udt_name", T),
            ("is_identity", T),
        ],
    },
    Relation {
        name: "information_schema.check_constraints",
        columns: &[
            ("constraint_catalog", T),
            ("constraint_schema", T),
            ("constraint_name", T),
            ("check_clause", T),
        ],
    },
    Relation {
        name: "information_schema.table_constraints",
        columns: &[
            ("constraint_catalog", T),
            ("constraint_schema", T),
            ("constraint_name", T),
            ("table_catalog", T),
            ("table_schema", T),
            ("table_name", T),
            ("constraint_type", T),
        ],
    },
    Relation {
        name: "information_schema.key_column_usage",
        columns: &[
            ("constraint_catalog", T),
            ("constraint_schema", T),
            ("constraint_name", T),
            ("table_catalog", T),
            ("table_schema", T),
            ("table_name", T),
            ("column_name", T),
            ("ordinal_position", I4),
        ],
    },
    Relation {
        name: "information_schema.referential_constraints",
        columns: &[
            ("constraint_catalog", T),
            ("constraint_schema", T),
            ("constraint_name", T),
            ("unique_constraint_schema", T),
            ("unique_constraint_name", T),
            ("update_rule", T),
            ("delete_rule", T),
        ],
    },
    Relation {
        name: "information_schema.views",
        columns: &[
            ("table_catalog", T),
            ("table_schema", T),
            ("table_name", T),
            ("view_definition", T),
        ],
    },
    Relation {
        name: "information_schema.sequences",
        columns: &[
            ("sequence_catalog", T),
            ("sequence_schema", T),
            ("sequence_name", T),
            ("data_type", T),
            ("numeric_precision", I4),
            ("numeric_precision_radix", I4),
            ("numeric_scale", I4),
            ("start_value", T),
            ("minimum_value", T),
            ("maximum_value", T),
            ("increment", T),
            ("cycle_option", T),
        ],
    },
];

fn relation(name: &str) -> Option<&'static Relation> {
    RELATIONS.iter().find(|r| r.name == name)
}

/// Whether `name` (as the store sees it) is a system relation.
pub(crate) fn is_system(name: &str) -> bool {
    relation(name).is_some()
}

/// Rewrites the statement's references to system relations into the one
/// identifier the store serves (`pg_class`), bare `pg_*` names
/// too when no user table has them, and drops a `public.` qualifier (the
/// one schema user tables live in). Returns whether any system relation is
/// read.
pub(crate) fn qualify(
    stmt: &mut Statement,
    user_tables: &BTreeMap<String, Arc<TableInfo>>,
) -> bool {
    let mut any = false;
    let _ = visit_relations_mut(stmt, |name: &mut ObjectName| {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|i| i.value.to_ascii_lowercase())
            .collect();
        let full = match parts.as_slice() {
            [schema, rel] if schema == "pg_catalog" => Some(rel.clone()),
            [schema, rel] if schema == "information_schema" => Some(format!("{schema}.{rel}")),
            [rel] if rel.starts_with("pg_") && !user_tables.contains_key(&name.0[0].value) => {
                Some(rel.clone())
            }
            [schema, _] if schema == "public" => {
                name.0.remove(0);
                None
            }
            _ => None,
        };
        if let Some(full) = full {
            if is_system(&full) {
                *name = ObjectName(vec![Ident::new(full)]);
                any = true;
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if any {
        catalog_expressions(stmt, user_tables);
    }
    any
}

/// Keywords `quote_ident` quotes (PostgreSQL's reserved, column-name and
/// type-or-function-name keywords: `pg_get_keywords()` with a category
/// other than unreserved).
const QUOTED_KEYWORDS: &str = "all analyse analyze and any array as asc asymmetric authorization \
    between bigint binary bit boolean both case cast char character check coalesce collate \
    collation column concurrently constraint create cross current_catalog current_date \
    current_role current_schema current_time current_timestamp current_user dec decimal default \
    deferrable desc distinct do else end except exists extract false fetch float for foreign \
    freeze from full grant greatest group grouping having ilike in initially inner inout int \
    integer intersect interval into is isnull join lateral leading least left like limit \
    localtime localtimestamp national natural nchar none normalize not notnull null nullif \
    numeric offset on only or order out outer overlaps overlay placing position precision \
    primary real references returning right row select session_user setof similar smallint \
    some substring symmetric table tablesample then time timestamp to trailing treat trim true \
    union unique user using values varchar variadic verbose when where window with \
    xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot \
    xmlserialize xmltable";

/// An identifier as PostgreSQL's `quote_ident` writes it.
fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !QUOTED_KEYWORDS.split_whitespace().any(|k| k == name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `pg_get_constraintdef` of every constraint: its OID and text; `None`
/// for a CHECK constraint, whose deparsed expression is not rendered here.
fn constraint_defs(tables: &BTreeMap<String, Arc<TableInfo>>) -> Vec<(i64, Option<String>)> {
    let mut out = Vec::new();
    for (table, info) in tables {
        let cols = columns_of(info);
        for c in constraints_of(table, info, &cols) {
            out.push((oid_of(&format!("{table}.{}", c.name)), constraint_def(&c)));
        }
    }
    out
}

/// A constraint's `pg_get_constraintdef` text; `None` for a CHECK.
fn constraint_def(c: &Constraint) -> Option<String> {
    let list = c
        .columns
        .iter()
        .map(|(_, n)| quote_ident(n))
        .collect::<Vec<_>>()
        .join(", ");
    match (c.kind, &c.references) {
        ('p', _) => Some(format!("PRIMARY KEY ({list})")),
        ('u', _) => Some(format!("UNIQUE ({list})")),
        ('f', Some((t, col, upd, del))) => {
            let mut d = format!(
                "FOREIGN KEY ({list}) REFERENCES {}({})",
                quote_ident(t),
                quote_ident(col)
            );
            for (word, action) in [("UPDATE", upd), ("DELETE", del)] {
                if action_code(action) != "a" {
                    d.push_str(&format!(" ON {word} {action}"));
                }
            }
            Some(d)
        }
        _ => None,
    }
}

/// A foreign key, as psql's `\d` footers list it.
pub(crate) struct ForeignKey {
    /// The referencing table.
    pub table: String,
    /// The constraint's name.
    pub name: String,
    /// The referenced table.
    pub referenced: String,
    /// `pg_get_constraintdef`'s text.
    pub def: String,
}

/// Every foreign key, by referencing table and name.
pub(crate) fn foreign_keys(tables: &BTreeMap<String, Arc<TableInfo>>) -> Vec<ForeignKey> {
    let mut out = Vec::new();
    for (table, info) in tables {
        let cols = columns_of(info);
        for c in constraints_of(table, info, &cols) {
            if let (Some((referenced, ..)), Some(def)) = (&c.references, constraint_def(&c)) {
                out.push(ForeignKey {
                    table: table.clone(),
                    name: c.name.clone(),
                    referenced: referenced.clone(),
                    def,
                });
            }
        }
    }
    out
}

/// `pg_get_constraintdef(oid [, pretty])` as a `CASE` over the constraints'
/// OIDs (NULL for an OID that is no constraint, as PostgreSQL answers); a
/// CHECK constraint's fails to evaluate instead of answering other text.
fn constraintdef(oid: &Expr, tables: &BTreeMap<String, Arc<TableInfo>>) -> Option<Expr> {
    let defs = constraint_defs(tables);
    if defs.is_empty() {
        return Some(Expr::Value(SqlValue::Null));
    }
    let cases: String = defs
        .iter()
        .map(|(o, d)| match d {
            Some(d) => format!(" WHEN {o} THEN '{}'", d.replace('\'', "''")),
            None => format!(
                " WHEN {o} THEN CAST('pg_get_constraintdef of a CHECK constraint is not \
                 supported' AS INTEGER)"
            ),
        })
        .collect();
    first_item(&format!("SELECT CASE {oid}{cases} ELSE NULL END"))
}

/// In a statement reading the catalogs: `pg_catalog.pg_class.relname`
/// becomes `pg_class.relname` (the relation's name as the store serves
/// it), `pg_catalog.f(…)` becomes `f(…)`, and `pg_table_is_visible(oid)`
/// is true (every relation lives in `public` or the catalogs, all on the
/// search path).
fn catalog_expressions(stmt: &mut Statement, tables: &BTreeMap<String, Arc<TableInfo>>) {
    let _ = visit_expressions_mut(stmt, |e| {
        match e {
            Expr::Function(f)
                if f.name
                    .0
                    .last()
                    .is_some_and(|n| n.value.eq_ignore_ascii_case("pg_get_constraintdef"))
                    && matches!(f.name.0.len(), 1 | 2) =>
            {
                use gluesql_core::sqlparser::ast::{
                    FunctionArg, FunctionArgExpr, FunctionArguments,
                };
                let oid = match &f.args {
                    FunctionArguments::List(l) if matches!(l.args.len(), 1 | 2) => {
                        match &l.args[0] {
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x.clone()),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                if let Some(x) = oid.and_then(|o| constraintdef(&o, tables)) {
                    *e = x;
                }
            }
            Expr::CompoundIdentifier(parts)
                if parts.len() == 3 && parts[0].value.eq_ignore_ascii_case("pg_catalog") =>
            {
                parts.remove(0);
            }
            // `'t'::regclass` is the OID of relation t; `x::regclass` of an
            // OID is its name (as regclass prints); `x::oid` is x.
            Expr::Cast {
                expr, data_type, ..
            } if data_type.to_string().eq_ignore_ascii_case("regclass") => {
                let inner = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                let by_name = matches!(
                    inner,
                    Expr::Value(SqlValue::SingleQuotedString(_) | SqlValue::Placeholder(_))
                );
                let sql = if by_name {
                    format!("SELECT (SELECT __rc.oid FROM pg_class AS __rc WHERE __rc.relname = {inner})")
                } else {
                    format!("SELECT (SELECT __rc.relname FROM pg_class AS __rc WHERE __rc.oid = {inner})")
                };
                if let Some(x) = first_item(&sql) {
                    *e = x;
                }
            }
            Expr::Cast {
                expr, data_type, ..
            } if data_type.to_string().eq_ignore_ascii_case("oid") => {
                let inner = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                *e = inner;
            }
            Expr::Function(f) if catalog_function(f).is_some() => {
                if let Some(x) = catalog_function(f) {
                    *e = x;
                }
            }
            // `oid::regtype`: the type's SQL name (what psycopg's TypeInfo
            // query reads back).
            Expr::Cast {
                expr, data_type, ..
            } if data_type.to_string().eq_ignore_ascii_case("regtype") => {
                let inner = std::mem::replace(expr.as_mut(), Expr::Value(SqlValue::Null));
                *e = regtype_name(inner);
            }
            // `to_regtype(name)`: the OID of the type of that name, NULL
            // when there is none (as for extension types like hstore).
            Expr::Function(f)
                if f.name.to_string().eq_ignore_ascii_case("to_regtype")
                    || f.name
                        .to_string()
                        .eq_ignore_ascii_case("pg_catalog.to_regtype") =>
            {
                if let Some(arg) = single_arg(&f.args) {
                    let sql = format!(
                        "SELECT (SELECT __rt.oid FROM pg_type AS __rt WHERE __rt.typname = {arg})"
                    );
                    if let Some(x) = first_item(&sql) {
                        *e = x;
                    }
                }
            }
            Expr::Function(f) => {
                if f.name.0.len() == 2 && f.name.0[0].value.eq_ignore_ascii_case("pg_catalog") {
                    f.name.0.remove(0);
                }
                if f.name
                    .to_string()
                    .eq_ignore_ascii_case("pg_table_is_visible")
                {
                    *e = Expr::Value(SqlValue::Boolean(true));
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The catalog functions drivers and ORMs call, as expressions the
/// executor evaluates; `None` for any other function.
fn catalog_function(f: &gluesql_core::sqlparser::ast::Function) -> Option<Expr> {
    use gluesql_core::sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    let name = f.name.0.last()?.value.to_ascii_lowercase();
    let args: Vec<String> = match &f.args {
        FunctionArguments::List(l) => l
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.to_string()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        FunctionArguments::None => Vec::new(),
        FunctionArguments::Subquery(_) => return None,
    };
    let sql = match (name.as_str(), args.as_slice()) {
        ("pg_collation_is_visible", [_]) => "SELECT true".to_string(),
        ("pg_get_expr", [expr, _] | [expr, _, _]) => format!("SELECT {expr}"),
        ("format_type", [t, m]) => {
            let names: String = TYPES
                .iter()
                .filter(|ty| !matches!(ty.0, 1042 | 1043 | 1700))
                .map(|ty| {
                    format!(
                        " WHEN {} THEN '{}'",
                        ty.0,
                        regtype_display(ty.1).replace('\'', "''")
                    )
                })
                .collect();
            format!(
                "SELECT CASE {t} \
                 WHEN 1043 THEN CASE WHEN {m} >= 4 THEN 'character varying(' || CAST({m} - 4 AS TEXT) || ')' ELSE 'character varying' END \
                 WHEN 1042 THEN CASE WHEN {m} >= 4 THEN 'character(' || CAST({m} - 4 AS TEXT) || ')' ELSE 'bpchar' END \
                 WHEN 1700 THEN CASE WHEN {m} >= 4 THEN 'numeric(' || CAST(({m} - 4) / 65536 AS TEXT) || ',' || CAST(({m} - 4) % 65536 AS TEXT) || ')' ELSE 'numeric' END\
                 {names} ELSE '???' END"
            )
        }
        // Functions whose answers this catalog has no data for (identity
        // columns, JSON building): they fail when evaluated — ORMs only
        // reach them in branches our catalog never takes (no identity
        // columns exist) — instead of answering something wrong.
        // pg_get_indexdef(index, column, pretty) is asked only for
        // expression columns, which are not described here.
        ("json_build_object" | "pg_get_serial_sequence" | "pg_get_indexdef", _) => {
            format!("SELECT CAST('{name} is not supported' AS INTEGER)")
        }
        _ => return None,
    };
    first_item(&sql)
}

/// `CASE x WHEN 23 THEN 'integer' … ELSE CAST(x AS TEXT) END`: a type
/// OID as `regtype` prints it.
fn regtype_display(name: &'static str) -> &'static str {
    match name {
        "bool" => "boolean",
        "char" => "\"char\"",
        "int8" => "bigint",
        "int2" => "smallint",
        "int4" => "integer",
        "float4" => "real",
        "float8" => "double precision",
        "bpchar" => "character",
        "varchar" => "character varying",
        "time" => "time without time zone",
        "timestamp" => "timestamp without time zone",
        "timestamptz" => "timestamp with time zone",
        other => other,
    }
}

fn regtype_name(x: Expr) -> Expr {
    let display = regtype_display;
    Expr::Case {
        operand: Some(Box::new(x.clone())),
        conditions: TYPES
            .iter()
            .map(|t| Expr::Value(SqlValue::Number(t.0.into(), false)))
            .collect(),
        results: TYPES
            .iter()
            .map(|t| Expr::Value(SqlValue::SingleQuotedString(display(t.1).to_string())))
            .collect(),
        else_result: Some(Box::new(Expr::Cast {
            kind: gluesql_core::sqlparser::ast::CastKind::Cast,
            expr: Box::new(x),
            data_type: gluesql_core::sqlparser::ast::DataType::Text,
            format: None,
        })),
    }
}

fn single_arg(args: &gluesql_core::sqlparser::ast::FunctionArguments) -> Option<&Expr> {
    use gluesql_core::sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    match args {
        FunctionArguments::List(l) if l.args.len() == 1 => match &l.args[0] {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        },
        _ => None,
    }
}

/// The first select item of `sql` (one `SELECT`), parsed.
fn first_item(sql: &str) -> Option<Expr> {
    use gluesql_core::sqlparser::ast::{SelectItem, SetExpr};
    use gluesql_core::sqlparser::dialect::PostgreSqlDialect;
    let mut stmts =
        gluesql_core::sqlparser::parser::Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?;
    let Some(Statement::Query(q)) = stmts.pop() else {
        return None;
    };
    let SetExpr::Select(s) = *q.body else {
        return None;
    };
    match s.projection.into_iter().next()? {
        SelectItem::UnnamedExpr(e) => Some(e),
        _ => None,
    }
}

/// The system relation a FROM names (as the store serves it: `pg_class`,
/// `information_schema.tables`), as [`qualify`] resolves names; `None` for
/// a user table or an unknown name.
pub(crate) fn relation_name(
    name: &ObjectName,
    user_tables: &BTreeMap<String, Arc<TableInfo>>,
) -> Option<String> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|i| i.value.to_ascii_lowercase())
        .collect();
    let full = match parts.as_slice() {
        [schema, rel] if schema == "pg_catalog" => rel.clone(),
        [schema, rel] if schema == "information_schema" => format!("{schema}.{rel}"),
        [rel] if rel.starts_with("pg_") && !user_tables.contains_key(&name.0[0].value) => {
            rel.clone()
        }
        _ => return None,
    };
    is_system(&full).then_some(full)
}

/// The type of column `column` of system relation `name` (as the store
/// serves it: `pg_class`, `information_schema.tables`).
pub(crate) fn column_type(name: &str, column: &str) -> Option<DataType> {
    let (_, t) = relation(name)?
        .columns
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(column))?;
    match t {
        GType::Boolean | GType::Int16 | GType::Int32 | GType::Int | GType::Float => {
            crate::convert::engine_type(t)
        }
        _ => Some(DataType::Text),
    }
}

/// The executor's schema of a system relation.
pub(crate) fn schema(name: &str) -> Option<GSchema> {
    let r = relation(name)?;
    Some(GSchema {
        table_name: r.name.to_string(),
        column_defs: Some(
            r.columns
                .iter()
                .map(|(n, t)| ColumnDef {
                    name: (*n).to_string(),
                    data_type: t.clone(),
                    nullable: true,
                    default: None,
                    unique: None,
                    comment: None,
                })
                .collect(),
        ),
        indexes: Vec::new(),
        engine: None,
        foreign_keys: Vec::new(),
        comment: None,
    })
}

/// Stable OID of a user relation or constraint (FNV-1a, above PostgreSQL's
/// first user OID); tables keep the OID psql's `\d` has always used.
pub(crate) fn oid_of(name: &str) -> i64 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    16_384 + i64::from(h & 0x3fff_ffff)
}

/// PostgreSQL's `default` and `C` collations.
const DEFAULT_COLLATION: i64 = 100;
const C_COLLATION: i64 = 950;

/// The collation of a type (by its internal name), 0 for types without.
fn collation_of(typname: &str) -> i64 {
    match typname {
        "text" | "varchar" | "bpchar" => DEFAULT_COLLATION,
        "name" => C_COLLATION,
        _ => 0,
    }
}

/// A built-in type: OID, name, length, category, array type OID.
struct BuiltinType(i64, &'static str, i16, &'static str, i64);

const TYPES: &[BuiltinType] = &[
    BuiltinType(16, "bool", 1, "B", 1000),
    BuiltinType(17, "bytea", -1, "U", 1001),
    BuiltinType(18, "char", 1, "S", 1002),
    BuiltinType(19, "name", 64, "S", 1003),
    BuiltinType(20, "int8", 8, "N", 1016),
    BuiltinType(21, "int2", 2, "N", 1005),
    BuiltinType(23, "int4", 4, "N", 1007),
    BuiltinType(25, "text", -1, "S", 1009),
    BuiltinType(26, "oid", 4, "N", 1028),
    BuiltinType(114, "json", -1, "U", 199),
    BuiltinType(700, "float4", 4, "N", 1021),
    BuiltinType(701, "float8", 8, "N", 1022),
    BuiltinType(1042, "bpchar", -1, "S", 1014),
    BuiltinType(1043, "varchar", -1, "S", 1015),
    BuiltinType(1082, "date", 4, "D", 1182),
    BuiltinType(1083, "time", 8, "D", 1183),
    BuiltinType(1114, "timestamp", 8, "D", 1115),
    BuiltinType(1184, "timestamptz", 8, "D", 1185),
    BuiltinType(1186, "interval", 16, "T", 1187),
    BuiltinType(1700, "numeric", -1, "N", 1231),
    BuiltinType(2950, "uuid", 16, "U", 2951),
    BuiltinType(3802, "jsonb", -1, "U", 3807),
];

/// Type OID, internal name and length of an engine column type.
fn type_of(t: DataType, varchar: bool) -> (i64, &'static str, i16) {
    match t {
        DataType::Bool => (16, "bool", 1),
        DataType::Int2 => (21, "int2", 2),
        DataType::Int4 => (23, "int4", 4),
        DataType::Int8 => (20, "int8", 8),
        DataType::Float8 => (701, "float8", 8),
        DataType::Float4 => (700, "float4", 4),
        DataType::Numeric => (1700, "numeric", -1),
        DataType::Text if varchar => (1043, "varchar", -1),
        DataType::Text => (25, "text", -1),
        DataType::Bytes => (17, "bytea", -1),
        DataType::Timestamp => (1114, "timestamp", 8),
        DataType::TimestampTz => (1184, "timestamptz", 8),
        DataType::Date => (1082, "date", 4),
        DataType::Time => (1083, "time", 8),
        DataType::Interval => (1186, "interval", 16),
        DataType::Uuid => (2950, "uuid", 16),
    }
}

fn s(v: impl Into<String>) -> G {
    G::Str(v.into())
}

/// One column of a user table as the catalogs describe it.
struct Col {
    name: String,
    num: i16,
    data_type: DataType,
    varchar: Option<u64>,
    numeric: Option<(u32, u32)>,
    not_null: bool,
    has_default: bool,
    /// `column_default` as PostgreSQL deparses the default (`None`: no
    /// default, or one whose text is not rendered here).
    default: Option<String>,
}

/// PostgreSQL's text of a column default (`pg_get_expr` of `pg_attrdef`)
/// for the forms it deparses simply: a string is a cast of the literal to
/// the column's type, a non-negative number is itself, a negative one a
/// cast to the literal's own type, NULL a cast, booleans and the clock
/// functions their names. Other defaults give `None`.
fn default_text(e: &gluesql_core::ast::Expr, column_type: &str) -> Option<String> {
    use gluesql_core::ast::{Expr as E, Function as F, Literal, UnaryOperator};
    Some(match e {
        E::Literal(Literal::QuotedString(s)) => {
            format!("'{}'::{column_type}", s.replace('\'', "''"))
        }
        E::Literal(Literal::Number(n)) => n.to_string(),
        E::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            E::Literal(Literal::Number(n)) => {
                let text = format!("-{n}");
                let t = if text.contains('.') {
                    "numeric"
                } else if text.parse::<i32>().is_ok() {
                    "integer"
                } else if text.parse::<i64>().is_ok() {
                    "bigint"
                } else {
                    "numeric"
                };
                format!("'{text}'::{t}")
            }
            _ => return None,
        },
        E::Value(G::Bool(b)) => b.to_string(),
        E::Value(G::Null) => format!("NULL::{column_type}"),
        E::Function(f) => match f.as_ref() {
            F::Now() => "now()".into(),
            F::CurrentTimestamp() => "CURRENT_TIMESTAMP".into(),
            F::CurrentDate() => "CURRENT_DATE".into(),
            _ => return None,
        },
        _ => return None,
    })
}

fn columns_of(info: &TableInfo) -> Vec<Col> {
    let defs = info.meta.schema.column_defs.as_deref().unwrap_or_default();
    info.columns()
        .enumerate()
        .map(|(i, c)| {
            let def = defs.iter().find(|d| d.name == c.name);
            let is_varchar = info.meta.varchar.iter().any(|(n, _)| *n == c.name);
            let column_type = if info.meta.bpchar.contains(&c.name) {
                "bpchar"
            } else if is_varchar {
                "character varying"
            } else {
                pg_type_name(c.data_type)
            };
            Col {
                name: c.name.clone(),
                num: i16::try_from(i + 1).unwrap_or(i16::MAX),
                data_type: c.data_type,
                varchar: info
                    .meta
                    .varchar
                    .iter()
                    .find(|(n, _)| *n == c.name)
                    .map(|(_, l)| *l),
                numeric: info
                    .meta
                    .numeric
                    .iter()
                    .find(|(n, ..)| *n == c.name)
                    .map(|(_, p, s)| (*p, *s)),
                not_null: def.map_or(!c.nullable, |d| !d.nullable),
                has_default: def.is_some_and(|d| d.default.is_some())
                    || info.meta.serial.contains(&c.name)
                    || info.meta.seq_defaults.iter().any(|(n, _)| *n == c.name),
                default: def
                    .and_then(|d| d.default.as_ref())
                    .and_then(|e| default_text(e, column_type)),
            }
        })
        .collect()
}

/// A table's constraints: name, type (`p`, `u`, `f`), column numbers and
/// names, and for a foreign key the referenced table and column.
struct Constraint {
    name: String,
    kind: char,
    columns: Vec<(i16, String)>,
    references: Option<(String, String, String, String)>,
}

/// The PRIMARY KEY and UNIQUE constraints of a table (single-column,
/// composite): name, whether primary, column names.
pub(crate) fn key_constraints(table: &str, info: &TableInfo) -> Vec<(String, bool, Vec<String>)> {
    let cols = columns_of(info);
    constraints_of(table, info, &cols)
        .into_iter()
        .filter(|c| matches!(c.kind, 'p' | 'u'))
        .map(|c| {
            let names = c.columns.into_iter().map(|(_, n)| n).collect();
            (c.name, c.kind == 'p', names)
        })
        .collect()
}

fn constraints_of(table: &str, info: &TableInfo, cols: &[Col]) -> Vec<Constraint> {
    let defs = info.meta.schema.column_defs.as_deref().unwrap_or_default();
    let num = |n: &str| cols.iter().find(|c| c.name == n).map_or(0, |c| c.num);
    let mut out = Vec::new();
    for d in defs {
        match d.unique {
            Some(ColumnUniqueOption { is_primary: true }) => out.push(Constraint {
                name: format!("{table}_pkey"),
                kind: 'p',
                columns: vec![(num(&d.name), d.name.clone())],
                references: None,
            }),
            Some(ColumnUniqueOption { is_primary: false }) => {
                // A unique index (CREATE UNIQUE INDEX) is no constraint.
                let named = info.meta.unique_names.iter().find(|(_, c)| *c == d.name);
                let index = named
                    .is_some_and(|(n, _)| info.meta.schema.indexes.iter().any(|i| i.name == *n));
                if !index {
                    out.push(Constraint {
                        name: named
                            .map_or_else(|| format!("{table}_{}_key", d.name), |(n, _)| n.clone()),
                        kind: 'u',
                        columns: vec![(num(&d.name), d.name.clone())],
                        references: None,
                    });
                }
            }
            None => {}
        }
    }
    for k in &info.meta.composite {
        out.push(Constraint {
            name: k.name.clone(),
            kind: if k.primary { 'p' } else { 'u' },
            columns: k.columns.iter().map(|c| (num(c), c.clone())).collect(),
            references: None,
        });
    }
    for c in &info.meta.checks {
        out.push(Constraint {
            name: c.name.clone(),
            kind: 'c',
            columns: defs
                .iter()
                .filter(|d| crate::ddl::mentions(&c.expr, &d.name))
                .map(|d| (num(&d.name), d.name.clone()))
                .collect(),
            references: None,
        });
    }
    for fk in &info.meta.schema.foreign_keys {
        let action = info.meta.fk_actions.iter().find(|a| a.name == fk.name);
        out.push(Constraint {
            name: fk.name.clone(),
            kind: 'f',
            columns: vec![(
                num(&fk.referencing_column_name),
                fk.referencing_column_name.clone(),
            )],
            references: Some((
                fk.referenced_table_name.clone(),
                fk.referenced_column_name.clone(),
                action.map_or_else(|| fk.on_update.to_string(), |a| a.on_update.sql().into()),
                action.map_or_else(|| fk.on_delete.to_string(), |a| a.on_delete.sql().into()),
            )),
        });
    }
    out
}

/// PostgreSQL's default btree operator classes of the column types here:
/// OID, name, input type OID.
const BTREE_OPCLASSES: &[(i64, &str, i64)] = &[
    (1978, "int4_ops", 23),
    (1979, "int2_ops", 21),
    (3122, "date_ops", 1082),
    (3123, "float8_ops", 701),
    (3124, "int8_ops", 20),
    (3125, "numeric_ops", 1700),
    (3126, "text_ops", 25),
    (3127, "timestamptz_ops", 1184),
    (3128, "timestamp_ops", 1114),
    (10_003, "bool_ops", 16),
    (10_004, "bpchar_ops", 1042),
    (10_006, "bytea_ops", 17),
    (10_012, "float4_ops", 700),
    (10_022, "interval_ops", 1186),
    (10_038, "time_ops", 1083),
    (10_065, "uuid_ops", 2950),
];

/// PostgreSQL's default btree operator class (`pg_opclass` OID) of a
/// column type.
fn btree_opclass(t: DataType) -> i64 {
    match t {
        DataType::Bool => 10_003,
        DataType::Int2 => 1979,
        DataType::Int4 => 1978,
        DataType::Int8 => 3124,
        DataType::Float8 => 3123,
        DataType::Float4 => 10_012,
        DataType::Numeric => 3125,
        DataType::Text => 3126,
        DataType::Bytes => 10_006,
        DataType::Timestamp => 3128,
        DataType::TimestampTz => 3127,
        DataType::Date => 3122,
        DataType::Time => 10_038,
        DataType::Interval => 10_022,
        DataType::Uuid => 10_065,
    }
}

/// `pg_constraint`'s one-letter referential action.
fn action_code(a: &str) -> &'static str {
    match a {
        "CASCADE" => "c",
        "SET NULL" => "n",
        "SET DEFAULT" => "d",
        "RESTRICT" => "r",
        _ => "a",
    }
}

/// The rows of system relation `name`.
pub(crate) fn rows(
    name: &str,
    tables: &BTreeMap<String, Arc<TableInfo>>,
    id: &Identity,
) -> Vec<Vec<G>> {
    let db = || s(id.database.clone());
    let mut out: Vec<Vec<G>> = Vec::new();
    match name {
        "pg_namespace" => {
            for (oid, n) in [
                (PG_CATALOG_OID, "pg_catalog"),
                (PUBLIC_OID, "public"),
                (INFORMATION_SCHEMA_OID, "information_schema"),
            ] {
                out.push(vec![G::I64(oid), s(n), G::I64(OWNER_OID)]);
            }
        }
        "pg_database" => out.push(vec![
            G::I64(DATABASE_OID),
            db(),
            G::I64(OWNER_OID),
            G::I32(6),
            s("C"),
            s("C"),
            G::Bool(false),
            G::Bool(true),
        ]),
        "pg_roles" => out.push(vec![
            G::I64(OWNER_OID),
            s(id.user.clone()),
            G::Bool(false),
            G::Bool(true),
            G::Bool(false),
            G::Bool(false),
            G::Bool(true),
        ]),
        "pg_settings" => {
            for [n, v, d] in &id.settings {
                out.push(vec![
                    s(n.clone()),
                    s(v.clone()),
                    s(d.clone()),
                    s("user"),
                    s("string"),
                    s("default"),
                ]);
            }
        }
        "pg_tablespace" => {
            for (oid, name) in [(1663, "pg_default"), (1664, "pg_global")] {
                out.push(vec![G::I64(oid), s(name), G::I64(OWNER_OID)]);
            }
        }
        "pg_am" => {
            for (oid, name, kind) in [
                (2, "heap", "t"),
                (403, "btree", "i"),
                (405, "hash", "i"),
                (783, "gist", "i"),
                (2742, "gin", "i"),
                (3580, "brin", "i"),
                (4000, "spgist", "i"),
            ] {
                out.push(vec![G::I64(oid), s(name), s(kind)]);
            }
        }
        // The btree operator classes indexes here use: each type's default.
        "pg_opclass" => {
            for (oid, name, intype) in BTREE_OPCLASSES {
                out.push(vec![
                    G::I64(*oid),
                    G::I64(403),
                    s(*name),
                    G::I64(PG_CATALOG_OID),
                    G::I64(*intype),
                    G::Bool(true),
                ]);
            }
        }
        "pg_collation" => {
            out.push(vec![
                G::I64(DEFAULT_COLLATION),
                s("default"),
                G::I64(PG_CATALOG_OID),
            ]);
            out.push(vec![G::I64(C_COLLATION), s("C"), G::I64(PG_CATALOG_OID)]);
        }
        "pg_type" => {
            for t in TYPES {
                out.push(vec![
                    G::I64(t.0),
                    s(t.1),
                    G::I64(PG_CATALOG_OID),
                    G::I64(OWNER_OID),
                    G::I16(t.2),
                    s("b"),
                    s(t.3),
                    s(","),
                    G::I64(0),
                    G::I64(0),
                    G::I64(t.4),
                    G::I64(0),
                    G::Bool(false),
                    G::I32(-1),
                    G::I64(collation_of(t.1)),
                ]);
            }
            for t in TYPES {
                out.push(vec![
                    G::I64(t.4),
                    s(format!("_{}", t.1)),
                    G::I64(PG_CATALOG_OID),
                    G::I64(OWNER_OID),
                    G::I16(-1),
                    s("b"),
                    s("A"),
                    s(","),
                    G::I64(0),
                    G::I64(t.0),
                    G::I64(0),
                    G::I64(0),
                    G::Bool(false),
                    G::I32(-1),
                    G::I64(collation_of(t.1)),
                ]);
            }
        }
        _ => {}
    }
    for (table, info) in tables.iter() {
        let oid = oid_of(table);
        let cols = columns_of(info);
        let constraints = constraints_of(table, info, &cols);
        let indexes = &info.meta.schema.indexes;
        let has_index =
            !constraints.iter().all(|c| matches!(c.kind, 'f' | 'c')) || !indexes.is_empty();
        match name {
            "pg_class" => {
                out.push(vec![
                    G::I64(oid),
                    s(table.clone()),
                    G::I64(PUBLIC_OID),
                    G::I64(0),
                    G::I64(OWNER_OID),
                    s("r"),
                    s("p"),
                    G::F64(-1.0),
                    G::Bool(has_index),
                    G::I16(0),
                    G::Bool(false),
                    G::I16(i16::try_from(cols.len()).unwrap_or(i16::MAX)),
                    G::I64(2),
                    G::Null,
                    G::I64(0),
                ]);
                let index_names = constraints
                    .iter()
                    .filter(|c| !matches!(c.kind, 'f' | 'c'))
                    .map(|c| c.name.clone())
                    .chain(indexes.iter().map(|i| i.name.clone()));
                for n in index_names {
                    out.push(vec![
                        G::I64(oid_of(&n)),
                        s(n),
                        G::I64(PUBLIC_OID),
                        G::I64(0),
                        G::I64(OWNER_OID),
                        s("i"),
                        s("p"),
                        G::F64(-1.0),
                        G::Bool(false),
                        G::I16(0),
                        G::Bool(false),
                        G::I16(1),
                        G::I64(403),
                        G::Null,
                        G::I64(0),
                    ]);
                }
            }
            "pg_attribute" => {
                for c in &cols {
                    let (toid, _, len) = type_of(c.data_type, c.varchar.is_some());
                    let typmod = match (c.varchar, c.numeric) {
                        (Some(l), _) => i32::try_from(l + 4).unwrap_or(-1),
                        (_, Some((p, sc))) => i32::try_from((p << 16) + sc + 4).unwrap_or(-1),
                        _ => -1,
                    };
                    out.push(vec![
                        G::I64(oid),
                        s(c.name.clone()),
                        G::I64(toid),
                        G::I16(len),
                        G::I16(c.num),
                        G::I32(typmod),
                        G::Bool(c.not_null),
                        G::Bool(c.has_default),
                        s(""),
                        s(""),
                        G::Bool(false),
                        G::I64(collation_of(type_of(c.data_type, c.varchar.is_some()).1)),
                    ]);
                }
            }
            "pg_index" => {
                // indclass: each key column's default btree operator class.
                let opclass = |num: i16| -> i64 {
                    let Some(c) = cols.iter().find(|c| c.num == num) else {
                        return 0;
                    };
                    if info.meta.bpchar.contains(&c.name) {
                        return 10_004;
                    }
                    btree_opclass(c.data_type)
                };
                let row = |index: &str, nums: &[i16], unique: bool, primary: bool| {
                    let n = i16::try_from(nums.len()).unwrap_or(i16::MAX);
                    let join = |f: &dyn Fn(i16) -> String| {
                        nums.iter().map(|k| f(*k)).collect::<Vec<_>>().join(" ")
                    };
                    vec![
                        G::I64(oid_of(index)),
                        G::I64(oid),
                        G::I16(n),
                        G::Bool(unique),
                        G::Bool(primary),
                        s(join(&|k| k.to_string())),
                        G::I16(n),
                        G::Bool(true),
                        G::Bool(false),
                        s(join(&|k| opclass(k).to_string())),
                        s(join(&|_| "0".to_string())),
                        G::Null,
                    ]
                };
                for c in constraints.iter().filter(|c| !matches!(c.kind, 'f' | 'c')) {
                    let nums: Vec<i16> = c.columns.iter().map(|(n, _)| *n).collect();
                    out.push(row(&c.name, &nums, true, c.kind == 'p'));
                }
                for i in indexes {
                    let col = match &i.expr {
                        gluesql_core::ast::Expr::Identifier(n) => {
                            cols.iter().find(|c| c.name == *n).map_or(0, |c| c.num)
                        }
                        _ => 0,
                    };
                    // CREATE UNIQUE INDEX: a unique index, not a constraint.
                    let unique = info.meta.unique_names.iter().any(|(n, _)| *n == i.name);
                    out.push(row(&i.name, &[col], unique, false));
                }
            }
            "pg_constraint" => {
                for c in &constraints {
                    let key = |v: &[(i16, String)]| {
                        format!(
                            "{{{}}}",
                            v.iter()
                                .map(|(n, _)| n.to_string())
                                .collect::<Vec<_>>()
                                .join(",")
                        )
                    };
                    let (frel, fkey, upd, del) = match &c.references {
                        Some((t, col, u, d)) => {
                            let fnum = tables
                                .get(t)
                                .map(|i| columns_of(i))
                                .and_then(|cs| cs.iter().find(|x| x.name == *col).map(|x| x.num))
                                .unwrap_or(0);
                            (
                                oid_of(t),
                                format!("{{{fnum}}}"),
                                action_code(u),
                                action_code(d),
                            )
                        }
                        None => (0, String::new(), " ", " "),
                    };
                    out.push(vec![
                        G::I64(oid_of(&format!("{table}.{}", c.name))),
                        s(c.name.clone()),
                        G::I64(PUBLIC_OID),
                        s(c.kind.to_string()),
                        G::I64(oid),
                        G::I64(if matches!(c.kind, 'f' | 'c') {
                            0
                        } else {
                            oid_of(&c.name)
                        }),
                        G::I64(frel),
                        s(upd),
                        s(del),
                        s(key(&c.columns)),
                        if c.references.is_some() {
                            s(fkey)
                        } else {
                            G::Null
                        },
                    ]);
                }
            }
            "pg_tables" => out.push(vec![
                s("public"),
                s(table.clone()),
                s(id.user.clone()),
                G::Null,
                G::Bool(has_index),
                G::Bool(false),
                G::Bool(false),
                G::Bool(false),
            ]),
            "pg_indexes" => {
                for c in constraints.iter().filter(|c| !matches!(c.kind, 'f' | 'c')) {
                    let cols_text = c
                        .columns
                        .iter()
                        .map(|(_, n)| n.clone())
                        .collect::<Vec<_>>()
                        .join(", ");
                    out.push(vec![
                        s("public"),
                        s(table.clone()),
                        s(c.name.clone()),
                        G::Null,
                        s(format!(
                            "CREATE UNIQUE INDEX {} ON public.{table} USING btree ({cols_text})",
                            c.name
                        )),
                    ]);
                }
                for i in indexes {
                    let column = match &i.expr {
                        gluesql_core::ast::Expr::Identifier(n) => n.clone(),
                        _ => String::from("?"),
                    };
                    out.push(vec![
                        s("public"),
                        s(table.clone()),
                        s(i.name.clone()),
                        G::Null,
                        s(format!(
                            "CREATE INDEX {} ON public.{table} USING btree ({column})",
                            i.name
                        )),
                    ]);
                }
            }
            "information_schema.tables" => out.push(vec![
                db(),
                s("public"),
                s(table.clone()),
                s("BASE TABLE"),
                s("YES"),
            ]),
            "information_schema.columns" => {
                for c in &cols {
                    let (_, udt, _) = type_of(c.data_type, c.varchar.is_some());
                    let data_type = if c.varchar.is_some() {
                        "character varying".to_string()
                    } else {
                        pg_type_name(c.data_type).to_string()
                    };
                    let (precision, scale) = match (c.data_type, c.numeric) {
                        (DataType::Int2, _) => (Some(16), Some(0)),
                        (DataType::Int4, _) => (Some(32), Some(0)),
                        (DataType::Int8, _) => (Some(64), Some(0)),
                        (DataType::Float8, _) => (Some(53), None),
                        (DataType::Float4, _) => (Some(24), None),
                        (DataType::Numeric, Some((p, sc))) => (Some(p), Some(sc)),
                        _ => (None, None),
                    };
                    let int = |v: Option<u32>| {
                        v.and_then(|v| i32::try_from(v).ok())
                            .map_or(G::Null, G::I32)
                    };
                    let serial = info.meta.serial.contains(&c.name);
                    let seq_default = info.meta.seq_defaults.iter().find(|(n, _)| *n == c.name);
                    out.push(vec![
                        db(),
                        s("public"),
                        s(table.clone()),
                        s(c.name.clone()),
                        G::I32(i32::from(c.num)),
                        if let Some((_, seq)) = seq_default {
                            s(format!("nextval('{seq}'::regclass)"))
                        } else if serial {
                            s(format!("nextval('{table}_{}_seq'::regclass)", c.name))
                        } else {
                            c.default.clone().map_or(G::Null, s)
                        },
                        s(if c.not_null { "NO" } else { "YES" }),
                        s(data_type),
                        c.varchar
                            .and_then(|l| i32::try_from(l).ok())
                            .map_or(G::Null, G::I32),
                        int(precision),
                        int(scale),
                        s(udt),
                        s("NO"),
                    ]);
                }
            }
            "information_schema.check_constraints" => {
                for c in &info.meta.checks {
                    out.push(vec![
                        db(),
                        s("public"),
                        s(c.name.clone()),
                        s(format!("({})", c.expr)),
                    ]);
                }
            }
            "information_schema.table_constraints" => {
                for c in &constraints {
                    let kind = match c.kind {
                        'p' => "PRIMARY KEY",
                        'u' => "UNIQUE",
                        'c' => "CHECK",
                        _ => "FOREIGN KEY",
                    };
                    out.push(vec![
                        db(),
                        s("public"),
                        s(c.name.clone()),
                        db(),
                        s("public"),
                        s(table.clone()),
                        s(kind),
                    ]);
                }
            }
            "information_schema.key_column_usage" => {
                for c in constraints.iter().filter(|c| c.kind != 'c') {
                    for (pos, (_, col)) in c.columns.iter().enumerate() {
                        out.push(vec![
                            db(),
                            s("public"),
                            s(c.name.clone()),
                            db(),
                            s("public"),
                            s(table.clone()),
                            s(col.clone()),
                            G::I32(i32::try_from(pos + 1).unwrap_or(i32::MAX)),
                        ]);
                    }
                }
            }
            "information_schema.referential_constraints" => {
                for c in &constraints {
                    if let Some((t, _, upd, del)) = &c.references {
                        out.push(vec![
                            db(),
                            s("public"),
                            s(c.name.clone()),
                            s("public"),
                            s(format!("{t}_pkey")),
                            s(upd.clone()),
                            s(del.clone()),
                        ]);
                    }
                }
            }
            _ => {}
        }
    }
    views_and_sequences(name, id, &mut out);
    if name == "information_schema.schemata" {
        for n in ["pg_catalog", "public", "information_schema"] {
            out.push(vec![db(), s(n), s(id.user.clone())]);
        }
    }
    out
}

/// The rows keyed as the executor wants them (by position).
pub(crate) fn keyed(rows: Vec<Vec<G>>) -> Vec<(Key, Vec<G>)> {
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| (Key::I64(i64::try_from(i).unwrap_or(i64::MAX)), r))
        .collect()
}

/// The catalog rows of views and sequences (see [`crate::objects`]).
fn views_and_sequences(name: &str, id: &Identity, out: &mut Vec<Vec<G>>) {
    let db = || s(id.database.clone());
    let class_row = |oid: i64, rel: &str, kind: &str, natts: usize| {
        vec![
            G::I64(oid),
            s(rel),
            G::I64(PUBLIC_OID),
            G::I64(0),
            G::I64(OWNER_OID),
            s(kind),
            s("p"),
            G::F64(-1.0),
            G::Bool(false),
            G::I16(0),
            G::Bool(false),
            G::I16(i16::try_from(natts).unwrap_or(i16::MAX)),
            G::I64(0),
            G::Null,
            G::I64(0),
        ]
    };
    for v in &id.views {
        let oid = oid_of(&v.name);
        match name {
            "pg_class" => out.push(class_row(oid, &v.name, "v", v.columns.len())),
            "pg_attribute" => {
                for (i, (c, t)) in v.columns.iter().enumerate() {
                    let (toid, tname, len) = type_of(*t, false);
                    out.push(vec![
                        G::I64(oid),
                        s(c.clone()),
                        G::I64(toid),
                        G::I16(len),
                        G::I16(i16::try_from(i + 1).unwrap_or(i16::MAX)),
                        G::I32(-1),
                        G::Bool(false),
                        G::Bool(false),
                        s(""),
                        s(""),
                        G::Bool(false),
                        G::I64(collation_of(tname)),
                    ]);
                }
            }
            "pg_views" => out.push(vec![
                s("public"),
                s(v.name.clone()),
                s(id.user.clone()),
                s(format!(" {};", v.query)),
            ]),
            "information_schema.views" => out.push(vec![
                db(),
                s("public"),
                s(v.name.clone()),
                s(v.query.clone()),
            ]),
            "information_schema.tables" => out.push(vec![
                db(),
                s("public"),
                s(v.name.clone()),
                s("VIEW"),
                s("NO"),
            ]),
            "information_schema.columns" => {
                for (i, (c, t)) in v.columns.iter().enumerate() {
                    let (_, udt, _) = type_of(*t, false);
                    out.push(vec![
                        db(),
                        s("public"),
                        s(v.name.clone()),
                        s(c.clone()),
                        G::I32(i32::try_from(i + 1).unwrap_or(i32::MAX)),
                        G::Null,
                        s("YES"),
                        s(pg_type_name(*t)),
                        G::Null,
                        G::Null,
                        G::Null,
                        s(udt),
                        s("NO"),
                    ]);
                }
            }
            _ => {}
        }
    }
    for q in &id.sequences {
        let d = &q.def;
        let oid = oid_of(&d.name);
        let (toid, _, _) = type_of(d.data_type, false);
        match name {
            "pg_class" => out.push(class_row(oid, &d.name, "S", 3)),
            "pg_sequence" => out.push(vec![
                G::I64(oid),
                G::I64(toid),
                G::I64(d.start),
                G::I64(d.increment),
                G::I64(d.max),
                G::I64(d.min),
                G::I64(d.cache),
                G::Bool(d.cycle),
            ]),
            "pg_sequences" => out.push(vec![
                s("public"),
                s(d.name.clone()),
                s(id.user.clone()),
                s(pg_type_name(d.data_type)),
                G::I64(d.start),
                G::I64(d.min),
                G::I64(d.max),
                G::I64(d.increment),
                G::Bool(d.cycle),
                G::I64(d.cache),
                q.last_value.map_or(G::Null, G::I64),
            ]),
            "information_schema.sequences" => {
                let bits = match d.data_type {
                    DataType::Int2 => 16,
                    DataType::Int4 => 32,
                    _ => 64,
                };
                out.push(vec![
                    db(),
                    s("public"),
                    s(d.name.clone()),
                    s(pg_type_name(d.data_type)),
                    G::I32(bits),
                    G::I32(2),
                    G::I32(0),
                    s(d.start.to_string()),
                    s(d.min.to_string()),
                    s(d.max.to_string()),
                    s(d.increment.to_string()),
                    s(if d.cycle { "YES" } else { "NO" }),
                ]);
            }
            _ => {}
        }
    }
}
