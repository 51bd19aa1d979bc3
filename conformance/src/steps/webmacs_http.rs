//! WebMACS steps of the "Frontend Fallback Strategy": `GET /api/v1/datapoints/latest`.

use cucumber::then;
use cucumber::when;
use serde_json::Value;
use telewire_protocols::webmacs::http::LATEST_DATAPOINTS_PATH;
use telewire_protocols::webmacs::http::LatestDatapoints;

use crate::http;
use crate::world::StepResult;
use crate::world::World;

async fn get_latest(world: &mut World, token: Option<String>) -> StepResult {
    let url = format!("{}{LATEST_DATAPOINTS_PATH}", world.target.http_base());
    let answer = http::request(&url, "GET", None, token.as_deref(), "").await?;
    world.note(
        "http",
        format!(
            "GET {LATEST_DATAPOINTS_PATH} -> HTTP {} {}",
            answer.status, answer.body
        ),
    );
    world.http_answer = Some((answer.status, answer.body));
    Ok(())
}

#[when("the client requests GET /api/v1/datapoints/latest without a token")]
async fn latest_without_token(world: &mut World) -> StepResult {
    get_latest(world, None).await
}

#[when("the client requests GET /api/v1/datapoints/latest with the configured token")]
async fn latest_with_token(world: &mut World) -> StepResult {
    let token = world.token();
    get_latest(world, Some(token)).await
}

#[then(regex = r"^the HTTP status is (\d+)$")]
async fn http_status(world: &mut World, status: u16) -> StepResult {
    match &world.http_answer {
        Some((got, _)) if *got == status => Ok(()),
        Some((got, body)) => Err(format!(
            "expected HTTP {status}; observed HTTP {got} {body}"
        )),
        None => Err("no HTTP request was made by an earlier step".into()),
    }
}

#[then(
    "the body holds one record per event, the first configured event's with the reading the stream showed"
)]
async fn latest_records(world: &mut World) -> StepResult {
    let (_, body) = world
        .http_answer
        .clone()
        .ok_or("no HTTP request was made by an earlier step")?;
    LatestDatapoints::decode(&body).map_err(|e| {
        format!("expected a JSON array of datapoint records ({e}); observed {body}")
    })?;
    let records: Vec<Value> = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    let mut seen = std::collections::HashSet::new();
    for record in &records {
        let fields = [
            "public_id",
            "value",
            "timestamp",
            "event_public_id",
            "experiment_public_id",
        ];
        if let Some(missing) = fields.iter().find(|f| record.get(**f).is_none()) {
            return Err(format!(
                "expected every record to have {missing}; observed {record}"
            ));
        }
        if !seen.insert(record["event_public_id"].to_string()) {
            return Err(format!(
                "expected one record per event; observed {} twice",
                record["event_public_id"]
            ));
        }
    }
    let broadcast = world
        .seen_broadcast
        .clone()
        .ok_or("no broadcast was seen")?;
    let shown = &broadcast["datapoints"][0];
    let event = &shown["event_public_id"];
    match records.iter().find(|r| &r["event_public_id"] == event) {
        Some(record) if record["value"] == shown["value"] => Ok(()),
        Some(record) => Err(format!(
            "expected the latest value of {event} to be {}; observed {record}",
            shown["value"]
        )),
        None => Err(format!("expected a record for {event}; observed {body}")),
    }
}
