//! `GET /asyncapi.yaml` on each simulator: the API's AsyncAPI 3.0 document, as YAML.

mod support;

use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;
use telewire_simulator::serve::start;

async fn serves_its_document(api: Api) {
    let running = start(&[api], ServeOptions::ephemeral()).await.unwrap();
    let addr = running.addr(api).unwrap();
    let (status, head, body) = support::http(addr, "GET", "/asyncapi.yaml", "", "").await;
    assert_eq!(status, 200, "{api:?}: {head}");
    assert!(
        head.contains("content-type: application/yaml"),
        "{api:?}: {head}"
    );
    let expected = telewire_protocols::asyncapi::Api::from_name(api.name())
        .unwrap()
        .document_for_simulator("ws", &addr.to_string());
    assert_eq!(
        body,
        telewire_protocols::asyncapi::to_yaml(&expected),
        "{api:?}: the served document is the built one"
    );
    assert!(body.starts_with("asyncapi: \"3.0.0\"\n"), "{api:?}");
    assert!(
        body.contains(&format!("host: \"{addr}\"")),
        "{api:?}: the simulator's server is this one"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn molecule_serves_its_asyncapi_document() {
    serves_its_document(Api::Molecule).await;
}

#[tokio::test]
async fn valtronics_serves_its_asyncapi_document() {
    serves_its_document(Api::Valtronics).await;
}

#[tokio::test]
async fn webmacs_serves_its_asyncapi_document() {
    serves_its_document(Api::Webmacs).await;
}

#[tokio::test]
async fn mosaic_serves_its_asyncapi_document() {
    serves_its_document(Api::Mosaic).await;
}

#[tokio::test]
async fn robot_serves_its_asyncapi_document() {
    serves_its_document(Api::Robot).await;
}
