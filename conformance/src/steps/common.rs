//! Steps every suite shares: close codes and reasons (RFC 6455 §7.4 as the documents use them).

use cucumber::then;

use crate::world::StepResult;
use crate::world::World;

fn refused_upgrade(world: &World, name: &str) -> Option<String> {
    world.refused.get(name).map(|status| {
        format!("the upgrade was refused with HTTP {status}; the document expects the WebSocket to be accepted and then closed")
    })
}

#[then(regex = r"^the server closes the connection with code (\d+)$")]
async fn closes_with_code(world: &mut World, code: u16) -> StepResult {
    let name = world.last.clone();
    if let Some(refused) = refused_upgrade(world, &name) {
        return Err(format!("expected close {code}; observed: {refused}"));
    }
    match world.close_of(&name).await? {
        Some((got, _)) if got == code => Ok(()),
        Some((got, reason)) => Err(format!(
            "expected close code {code}; observed close {got} {reason:?}"
        )),
        None => Err(format!(
            "expected close code {code}; observed the connection ending without a close frame"
        )),
    }
}

#[then(regex = r#"^the server closes the connection with code (\d+) and reason "(.*)"$"#)]
async fn closes_with_reason(world: &mut World, code: u16, reason: String) -> StepResult {
    let name = world.last.clone();
    if let Some(refused) = refused_upgrade(world, &name) {
        return Err(format!(
            "expected close {code} {reason:?}; observed: {refused}"
        ));
    }
    match world.close_of(&name).await? {
        Some((got, got_reason)) if got == code && got_reason == reason => Ok(()),
        Some((got, got_reason)) => Err(format!(
            "expected close {code} {reason:?}; observed close {got} {got_reason:?}"
        )),
        None => Err(format!(
            "expected close {code} {reason:?}; observed the connection ending without a close frame"
        )),
    }
}
