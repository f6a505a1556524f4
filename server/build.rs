// The migrations are compiled into the binary (`sqlx::migrate!`): a new or changed one
// must rebuild it, which Cargo does not know on its own.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
