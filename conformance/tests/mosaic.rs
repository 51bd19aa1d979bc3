//! The Mosaic suite against the in-process simulator, or the server `TELEWIRE_MOSAIC_URL` names.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    telewire_conformance::TestArgs::main(telewire_conformance::Suite::Mosaic).await
}
