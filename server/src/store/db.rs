//! The seam between the store and its two drivers, SQLite and PostgreSQL.
//!
//! The store's SQL is written once, in what both databases speak (`$1` parameters,
//! `ON CONFLICT`, `RETURNING`, `TRUE`/`FALSE`), and runs through the small query
//! interface here: a [`Query`] keeps its arguments as plain values and binds them to
//! whichever driver the [`Pool`] is when it runs; a [`DbRow`] reads a column the same
//! way from either. What truly differs between the two (how a write transaction
//! starts, how a worker claims, how open pages learn of changes, how an export reads)
//! lives in `sqlite.rs` and `postgres.rs`, each with its own migrations.

use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Decode, Postgres, Row as _, Sqlite, Type};
use std::borrow::Cow;
use std::fmt::Display;

/// Which database a store runs on, where the SQL has to differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The connection pool of one of the two drivers.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    pub fn dialect(&self) -> Dialect {
        match self {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// A transaction on either driver; rolled back when dropped without [`Tx::commit`].
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

/// A connection of its own, out of the pool (an export's, a watcher's).
pub enum Conn {
    Sqlite(SqliteConnection),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

/// What a query runs on: a pool, a transaction or a connection of either driver.
pub enum Target<'a> {
    SqlitePool(&'a SqlitePool),
    PgPool(&'a PgPool),
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl<'a> From<&'a Pool> for Target<'a> {
    fn from(pool: &'a Pool) -> Self {
        match pool {
            Pool::Sqlite(pool) => Target::SqlitePool(pool),
            Pool::Postgres(pool) => Target::PgPool(pool),
        }
    }
}

impl<'a> From<&'a mut Tx> for Target<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        match tx {
            Tx::Sqlite(tx) => Target::Sqlite(tx),
            Tx::Postgres(tx) => Target::Postgres(tx),
        }
    }
}

impl<'a> From<&'a mut Conn> for Target<'a> {
    fn from(conn: &'a mut Conn) -> Self {
        match conn {
            Conn::Sqlite(conn) => Target::Sqlite(conn),
            Conn::Postgres(conn) => Target::Postgres(conn),
        }
    }
}

/// One argument, held until the query knows its driver.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
    /// A column of values for PostgreSQL's `UNNEST($n::bigint[])`: a batch as one
    /// array per column rather than thousands of parameters. SQLite, which has no
    /// arrays, is given the list as JSON text (`json_each`).
    Ints(Vec<i64>),
    /// See [`Arg::Ints`]: `$n::text[]`.
    Texts(Vec<String>),
}

macro_rules! arg_from {
    ($variant:ident: $($t:ty => $conv:expr),* $(,)?) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Arg {
                let conv: fn($t) -> _ = $conv;
                Arg::$variant(conv(v))
            }
        }
    )*};
}

arg_from!(Int: i64 => Some, &i64 => |v| Some(*v), Option<i64> => |v| v, i32 => |v| Some(v.into()),
    u32 => |v| Some(v.into()), Option<u32> => |v| v.map(Into::into));
arg_from!(Real: f64 => Some, Option<f64> => |v| v);
arg_from!(Bool: bool => Some, Option<bool> => |v| v);
arg_from!(Text: String => Some, &String => |v| Some(v.clone()), &str => |v| Some(v.to_string()),
    Option<String> => |v| v, Option<&str> => |v| v.map(str::to_string),
    &Option<String> => |v| v.clone(), Option<&String> => |v| v.cloned());
arg_from!(Bytes: Vec<u8> => Some, &[u8] => |v| Some(v.to_vec()), &Vec<u8> => |v| Some(v.clone()));

/// Binds `$args` to the sqlx query `$query` of whichever driver it is; lists go
/// `as_arrays` (PostgreSQL) or `as_json` (SQLite).
macro_rules! bind_args {
    ($query:expr, $args:expr, $lists:ident) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Real(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.as_deref()),
                Arg::Bool(v) => query.bind(*v),
                Arg::Bytes(v) => query.bind(v.as_deref()),
                Arg::Ints(v) => bind_list!($lists, query, v),
                Arg::Texts(v) => bind_list!($lists, query, v),
            };
        }
        query
    }};
}

macro_rules! bind_list {
    (as_arrays, $query:expr, $list:expr) => {
        $query.bind($list.as_slice())
    };
    // A list of numbers and strings always has a JSON form.
    (as_json, $query:expr, $list:expr) => {
        $query.bind(serde_json::to_string($list).unwrap_or_default())
    };
}

/// The statement as SQLite is given it. SQLite keeps a list of the names of `$N` and
/// `?N` parameters and looks each one up through all the names before it, so a batch
/// of 14,000 parameters cost it seconds (ingest fell from 20,000 shipments/s to
/// 2,500). A builder's statement numbers its parameters in the order they appear,
/// once each: for SQLite they become plain `?`, which it counts without a list.
fn sqlite_sql(sql: &str, in_order: bool) -> Cow<'_, str> {
    if !in_order {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Runs `$run` (a method of sqlx's `Query`, such as `fetch_all`) on the target, and
/// hands the driver's result to `$wrap`.
macro_rules! run_on {
    ($target:expr, $sql:expr, $args:expr, $run:ident, $wrap:expr) => {
        match $target {
            Target::SqlitePool(pool) => {
                let sql = sqlite_sql($sql.0, $sql.1);
                $wrap(
                    bind_args!(sqlx::query::<Sqlite>(&sql), $args, as_json)
                        .$run(pool)
                        .await?,
                )
            }
            Target::Sqlite(conn) => {
                let sql = sqlite_sql($sql.0, $sql.1);
                $wrap(
                    bind_args!(sqlx::query::<Sqlite>(&sql), $args, as_json)
                        .$run(conn)
                        .await?,
                )
            }
            Target::PgPool(pool) => $wrap(
                bind_args!(sqlx::query::<Postgres>($sql.0), $args, as_arrays)
                    .$run(pool)
                    .await?,
            ),
            Target::Postgres(conn) => $wrap(
                bind_args!(sqlx::query::<Postgres>($sql.0), $args, as_arrays)
                    .$run(conn)
                    .await?,
            ),
        }
    };
}

/// A row of either driver.
pub enum DbRow {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

/// A column value both drivers can read.
pub trait Column:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

impl<T> Column for T where
    T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

/// A column's name or position, in either driver's rows.
pub trait Index: sqlx::ColumnIndex<SqliteRow> + sqlx::ColumnIndex<PgRow> {}
impl<I: sqlx::ColumnIndex<SqliteRow> + sqlx::ColumnIndex<PgRow>> Index for I {}

impl DbRow {
    pub fn try_get<T: Column, I: Index>(&self, index: I) -> Result<T, sqlx::Error> {
        match self {
            DbRow::Sqlite(row) => row.try_get(index),
            DbRow::Postgres(row) => row.try_get(index),
        }
    }

    /// A column at a position found by [`DbRow::position_of`]. On PostgreSQL it is
    /// read without sqlx's check that its SQL type may be read as `T`, which cost a
    /// tenth of a million-row export: these are the shipment rows a page or an export
    /// reads, whose columns the store's own schema types, and a NULL where `T` has none
    /// is still an error. SQLite keeps the check: its values carry no declared type,
    /// and unchecked a NULL would read as an empty string or 0.
    pub fn column_at<T: Column>(&self, at: usize) -> Result<T, sqlx::Error> {
        match self {
            DbRow::Sqlite(row) => row.try_get(at),
            DbRow::Postgres(row) => row.try_get_unchecked(at),
        }
    }

    /// Where the column `name` is: looked up once, then `try_get` by position spares
    /// a name lookup per row.
    pub fn position_of(&self, name: &str) -> Result<usize, sqlx::Error> {
        match self {
            DbRow::Sqlite(row) => sqlx::ColumnIndex::index(&name, row),
            DbRow::Postgres(row) => sqlx::ColumnIndex::index(&name, row),
        }
    }
}

/// A record made from a row of either driver: what `#[derive(sqlx::FromRow)]` and
/// tuples of columns give.
pub trait Record:
    for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Record for T where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

impl DbRow {
    fn record<T: Record>(&self) -> Result<T, sqlx::Error> {
        match self {
            DbRow::Sqlite(row) => T::from_row(row),
            DbRow::Postgres(row) => T::from_row(row),
        }
    }
}

/// What an executed statement did.
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// A statement and its arguments (see the module's comment).
#[derive(Clone, Debug)]
pub struct Query<'q> {
    sql: Cow<'q, str>,
    args: Vec<Arg>,
    /// Its parameters appear in order, once each (a builder's; see `sqlite_sql`).
    in_order: bool,
}

pub fn query<'q>(sql: impl Into<Cow<'q, str>>) -> Query<'q> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
        in_order: false,
    }
}

impl<'q> Query<'q> {
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    pub async fn execute<'t>(self, target: impl Into<Target<'t>>) -> Result<Done, sqlx::Error> {
        let sql = (&*self.sql, self.in_order);
        let args = &self.args;
        Ok(run_on!(target.into(), sql, args, execute, |done: _| Done {
            rows_affected: affected(done)
        }))
    }

    pub async fn fetch_all<'t>(
        self,
        target: impl Into<Target<'t>>,
    ) -> Result<Vec<DbRow>, sqlx::Error> {
        let sql = (&*self.sql, self.in_order);
        let args = &self.args;
        Ok(run_on!(target.into(), sql, args, fetch_all, |rows: Vec<
            _,
        >| {
            rows.into_iter().map(DbRow::from).collect()
        }))
    }

    pub async fn fetch_optional<'t>(
        self,
        target: impl Into<Target<'t>>,
    ) -> Result<Option<DbRow>, sqlx::Error> {
        let sql = (&*self.sql, self.in_order);
        let args = &self.args;
        Ok(run_on!(
            target.into(),
            sql,
            args,
            fetch_optional,
            |row: Option<_>| row.map(DbRow::from)
        ))
    }

    pub async fn fetch_one<'t>(self, target: impl Into<Target<'t>>) -> Result<DbRow, sqlx::Error> {
        let sql = (&*self.sql, self.in_order);
        let args = &self.args;
        Ok(run_on!(target.into(), sql, args, fetch_one, DbRow::from))
    }

    /// PostgreSQL only: the rows as they arrive, without a cursor. The connection reads
    /// on only as fast as the rows are taken, so memory stays flat however many there
    /// are; a stream dropped before its end leaves the connection mid-answer (close it).
    pub fn fetch_pg<'c>(
        &'c self,
        conn: &'c mut PgConnection,
    ) -> impl futures::Stream<Item = Result<DbRow, sqlx::Error>> + Send + 'c {
        use futures::StreamExt;
        bind_args!(sqlx::query::<Postgres>(&self.sql), &self.args, as_arrays)
            .fetch(conn)
            .map(|row| row.map(DbRow::from))
    }
}

/// Rows affected, from either driver's result.
trait Affected {
    fn rows(&self) -> u64;
}
impl Affected for sqlx::sqlite::SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}
impl Affected for sqlx::postgres::PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}
fn affected(done: impl Affected) -> u64 {
    done.rows()
}

impl From<SqliteRow> for DbRow {
    fn from(row: SqliteRow) -> Self {
        DbRow::Sqlite(row)
    }
}
impl From<PgRow> for DbRow {
    fn from(row: PgRow) -> Self {
        DbRow::Postgres(row)
    }
}

/// A query whose rows each become a `T`: one column ([`query_scalar`]) or a record
/// ([`query_as`]).
pub struct TypedQuery<'q, T> {
    query: Query<'q>,
    decode: fn(&DbRow) -> Result<T, sqlx::Error>,
}

pub fn query_scalar<'q, T: Column>(sql: impl Into<Cow<'q, str>>) -> TypedQuery<'q, T> {
    TypedQuery {
        query: query(sql),
        decode: |row| row.try_get(0),
    }
}

pub fn query_as<'q, T: Record>(sql: impl Into<Cow<'q, str>>) -> TypedQuery<'q, T> {
    TypedQuery {
        query: query(sql),
        decode: DbRow::record,
    }
}

impl<'q, T> TypedQuery<'q, T> {
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub async fn fetch_all<'t>(self, target: impl Into<Target<'t>>) -> Result<Vec<T>, sqlx::Error> {
        let decode = self.decode;
        self.query
            .fetch_all(target)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    pub async fn fetch_optional<'t>(
        self,
        target: impl Into<Target<'t>>,
    ) -> Result<Option<T>, sqlx::Error> {
        let decode = self.decode;
        self.query
            .fetch_optional(target)
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    pub async fn fetch_one<'t>(self, target: impl Into<Target<'t>>) -> Result<T, sqlx::Error> {
        let decode = self.decode;
        decode(&self.query.fetch_one(target).await?)
    }
}

/// Builds a statement piece by piece, numbering its parameters `$1`, `$2`… as it goes.
#[derive(Clone, Debug, Default)]
pub struct SqlBuilder {
    sql: String,
    args: Vec<Arg>,
}

impl SqlBuilder {
    pub fn new(sql: impl Display) -> Self {
        SqlBuilder {
            sql: sql.to_string(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: impl Display) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.sql, "{sql}");
        self
    }

    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        let n = self.args.len();
        self.push(format_args!("${n}"))
    }

    /// A list whose items `push`/`push_bind` separate with `separator`.
    pub fn separated(&mut self, separator: &'static str) -> Separated<'_> {
        Separated {
            builder: self,
            separator,
            first: true,
        }
    }

    /// ` VALUES (…), (…)`: one row per item, its columns pushed by `row`.
    pub fn push_values<I>(&mut self, items: I, mut row: impl FnMut(Separated<'_>, I::Item))
    where
        I: IntoIterator,
    {
        self.push("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push("(");
            row(self.separated(", "), item);
            self.push(")");
        }
    }

    pub fn build(&self) -> Query<'_> {
        Query {
            sql: Cow::Borrowed(&self.sql),
            args: self.args.clone(),
            in_order: true,
        }
    }

    pub fn build_query_scalar<T: Column>(&self) -> TypedQuery<'_, T> {
        TypedQuery {
            query: self.build(),
            decode: |row| row.try_get(0),
        }
    }
}

/// See [`SqlBuilder::separated`].
pub struct Separated<'b> {
    builder: &'b mut SqlBuilder,
    separator: &'static str,
    first: bool,
}

impl Separated<'_> {
    fn separate(&mut self) {
        if !self.first {
            self.builder.push(self.separator);
        }
        self.first = false;
    }

    pub fn push(&mut self, sql: impl Display) -> &mut Self {
        self.separate();
        self.builder.push(sql);
        self
    }

    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.separate();
        self.builder.push_bind(value);
        self
    }

    pub fn push_unseparated(&mut self, sql: impl Display) -> &mut Self {
        self.builder.push(sql);
        self
    }

    pub fn push_bind_unseparated(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.builder.push_bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_is_given_a_builders_parameters_as_plain_question_marks() {
        assert_eq!(sqlite_sql("SELECT $1, $1", false), "SELECT $1, $1");
        let built = "INSERT INTO t VALUES ($1, '$x'), ($2, $33)";
        assert_eq!(
            sqlite_sql(built, true),
            "INSERT INTO t VALUES (?, '$x'), (?, ?)"
        );
    }

    #[test]
    fn a_builder_numbers_its_parameters_in_order() {
        let mut sql = SqlBuilder::new("SELECT * FROM t WHERE a IN (");
        let mut list = sql.separated(", ");
        list.push_bind(1i64).push_bind("x");
        sql.push(") AND b = ").push_bind(true);
        assert_eq!(sql.sql, "SELECT * FROM t WHERE a IN ($1, $2) AND b = $3");
        let mut values = SqlBuilder::new("INSERT INTO t (a, b) ");
        values.push_values([(1i64, "p"), (2, "q")], |mut row, (a, b)| {
            row.push_bind(a).push_bind(b);
        });
        assert_eq!(values.sql, "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
        assert_eq!(values.build().args.len(), 4);
    }

    #[tokio::test]
    async fn sqlite_reads_a_list_as_json() {
        let pool = SqlitePool::connect("sqlite::memory:").await.unwrap();
        let pool = Pool::Sqlite(pool);
        let sum: i64 = query_scalar("SELECT SUM(value) FROM json_each($1)")
            .bind(Arg::Ints(vec![2, 40]))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(sum, 42);
        let joined: String = query_scalar("SELECT group_concat(value, '+') FROM json_each($1)")
            .bind(Arg::Texts(vec!["a\"b".into(), "c".into()]))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(joined, "a\"b+c");
    }
}
