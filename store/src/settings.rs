//! Key/value settings the service generates once and keeps (e.g. the JWT secret).

use crate::schema::settings;
use diesel::prelude::*;

/// Returns the stored value for `key`, storing `candidate` first if there is none.
/// Concurrent callers all get the same value: the first insert wins.
pub fn get_or_insert(conn: &mut PgConnection, key: &str, candidate: &str) -> QueryResult<String> {
    diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(candidate)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
}
