//! A `wss://` target with its own CA: the suite connects through TLS.

use telewire_conformance::Options;
use telewire_conformance::Outcome;
use telewire_conformance::Suite;
use telewire_conformance::Target;
use telewire_conformance::TargetSpec;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;
use telewire_simulator::tls::TlsSettings;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_molecule_handshake_rules_pass_over_wss_with_a_configured_ca() {
    let generated = telewire_simulator::tls::self_signed().unwrap();
    let ca_file = std::env::temp_dir().join(format!("telewire-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, &generated.cert_pem).unwrap();
    let mut opts = ServeOptions::ephemeral();
    opts.tls = Some(TlsSettings {
        cert: None,
        key: None,
        pem: Some(generated),
    });
    let running = serve::start(&[Api::Molecule], opts).await.unwrap();
    let info = &running.apis[0].info;
    let url = info.ws_urls[0].clone();
    assert!(url.starts_with("wss://"), "{url}");
    let target = Target {
        url,
        token: Some(info.token.clone()),
        gateway_id: Some("demo-gateway".into()),
        ca_file: Some(ca_file.clone()),
        ..Target::default()
    };
    let options = Options {
        tags: Some("@molecule.handshake.accepted or @molecule.auth.token_rejected".into()),
        ..Options::default()
    };
    let report = telewire_conformance::run(
        Suite::Molecule,
        TargetSpec::Remote(Box::new(target)),
        options,
    )
    .await
    .unwrap();
    running.shutdown().await;
    let _ = std::fs::remove_file(&ca_file);
    assert_eq!(report.scenarios.len(), 4, "{}", report.text());
    assert!(
        report
            .scenarios
            .iter()
            .all(|s| s.outcome == Outcome::Passed),
        "{}",
        report.text()
    );
}
