//! The Valtronics suite against the in-process simulator, or the server `TELEWIRE_VALTRONICS_URL` names.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    telewire_conformance::TestArgs::main(telewire_conformance::Suite::Valtronics).await
}
