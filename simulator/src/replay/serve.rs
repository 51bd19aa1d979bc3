//! `telewire serve <api> --replay FILE`: every authenticated client of the API is served
//! the recording's server data frames, through its connection's command queue.

use std::sync::Arc;

use telewire_protocols::webmacs::Endpoint as WebmacsEndpoint;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::format::Recording;
use super::schedule::ReplaySettings;
use super::schedule::Schedule;
use crate::link::Command;
use crate::link::LinkId;
use crate::link::Links;
use crate::serve::Api;

/// A recording to serve in place of an API's live data.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The API it replaces the data of (the recording's).
    pub api: Api,
    /// The recording.
    pub recording: Arc<Recording>,
    /// `--speed` and `--loop`.
    pub settings: ReplaySettings,
}

impl Replay {
    /// Checks that `recording` is one of `api` with data frames, and prepares it.
    pub fn new(
        api: Api,
        recording: Recording,
        settings: ReplaySettings,
    ) -> Result<Self, super::format::RecordingError> {
        recording.check_for(api)?;
        Ok(Self {
            api,
            recording: Arc::new(recording),
            settings,
        })
    }
}

impl Replay {
    /// The table's note: what is replayed, and how.
    pub fn describe(&self) -> String {
        let frames = self
            .recording
            .entries
            .iter()
            .filter(|e| e.replayable().is_some())
            .count();
        format!(
            "REPLAY of {} recorded {}: {frames} data frames to each client once it authenticates, speed {}{}; live data off",
            self.recording.header.url,
            self.recording.header.started,
            self.settings.speed,
            if self.settings.looping {
                ", looping"
            } else {
                ""
            }
        )
    }
}

/// Whether connections on `path` of `api` receive data (WebMACS's controller ingest
/// endpoint only sends it).
fn receives_data(api: Api, path: &str) -> bool {
    !(api == Api::Webmacs && path == WebmacsEndpoint::ControllerTelemetry.path())
}

/// Starts serving `replay` to each connection of its API as it authenticates.
pub fn spawn(links: Arc<Links>, replay: &Replay) -> JoinHandle<()> {
    let schedule = Schedule::new(&replay.recording, replay.settings);
    let api = replay.api;
    let mut notices = links.authenticated();
    tokio::spawn(async move {
        loop {
            let id = match notices.recv().await {
                Ok(id) => id,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "replay: missed authentication notices");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let Some(state) = links.state(id) else {
                continue;
            };
            if state.api() != api || !receives_data(api, state.path()) {
                continue;
            }
            tokio::spawn(serve_one(links.clone(), id, schedule.clone()));
        }
    })
}

/// Serves `schedule` to connection `id` from now, until it ends or the recording does.
async fn serve_one(links: Arc<Links>, id: LinkId, schedule: Schedule) {
    let Some(commands) = links.sender(id) else {
        return;
    };
    tracing::debug!(id, "replay: serving the recording");
    schedule
        .play(Instant::now(), |frame| {
            let commands = commands.clone();
            async move { commands.send(Command::Send(frame)).await.is_ok() }
        })
        .await;
    tracing::debug!(id, "replay: done");
}
