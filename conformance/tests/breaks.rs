//! The suites can fail: every broken profile of `telewire serve --break` is caught by
//! exactly the rules it names, and every other rule still passes.

use std::collections::BTreeSet;

use telewire_conformance::Options;
use telewire_conformance::Outcome;
use telewire_conformance::Suite;
use telewire_conformance::TargetSpec;
use telewire_conformance::target::start_in_process_with;
use telewire_simulator::breaks::BREAKS;
use telewire_simulator::breaks::Break;
use telewire_simulator::serve::Api;

/// Fewest scenarios that must still pass against a broken server: a profile that takes
/// the whole suite down proves nothing about its rule.
const MIN_PASSED: usize = 10;

fn suite_of(api: Api) -> Suite {
    Suite::from_name(api.name()).unwrap_or_else(|| panic!("no suite for {api}"))
}

/// Runs `profile`'s suite against an in-process simulator with the profile applied; a
/// description of what went wrong, if the failed rules are not exactly the profile's.
async fn check(profile: &'static Break) -> Result<(), String> {
    let started = std::time::Instant::now();
    let suite = suite_of(profile.api);
    let (target, running) = start_in_process_with(suite, |opts| opts.apply_break(profile))
        .await
        .map_err(|e| format!("{}: the simulator did not start: {e}", profile.name))?;
    let report = telewire_conformance::run(
        suite,
        TargetSpec::Remote(Box::new(target)),
        Options::default(),
    )
    .await;
    running.shutdown().await;
    let report = report.map_err(|e| format!("{}: the run failed: {e:?}", profile.name))?;
    let failed: BTreeSet<&str> = report
        .scenarios
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
        .map(|s| s.rule_id.as_str())
        .collect();
    let passed = report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Passed)
        .count();
    let expected: BTreeSet<&str> = profile.rules().into_iter().collect();
    eprintln!(
        "{}: {} passed, failed {failed:?}, {:?}",
        profile.name,
        passed,
        started.elapsed()
    );
    if failed == expected && passed >= MIN_PASSED {
        Ok(())
    } else {
        Err(format!(
            "{}: expected exactly {expected:?} to fail and at least {MIN_PASSED} scenarios to pass; \
             observed failures {failed:?} and {passed} passed\n{}",
            profile.name,
            report.text()
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_broken_profile_fails_exactly_its_rules() {
    // The APIs side by side (on this task: a run is not `Send`), the profiles of one API
    // one after the other.
    let per_api = Api::ALL.into_iter().map(|api| async move {
        let mut errors = Vec::new();
        for profile in BREAKS.iter().filter(|b| b.api == api) {
            if let Err(e) = check(profile).await {
                errors.push(e);
            }
        }
        errors
    });
    let errors: Vec<String> = futures_util::future::join_all(per_api)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
}

#[test]
fn every_profile_names_rules_of_its_suite() {
    for api in Api::ALL {
        let rules = suite_of(api).rules().unwrap();
        let profiles: Vec<&Break> = BREAKS.iter().filter(|b| b.api == api).collect();
        assert!(
            profiles.len() >= 2,
            "{api}: {} broken profiles",
            profiles.len()
        );
        for profile in profiles {
            for rule in profile.rules() {
                assert!(
                    rules.iter().any(|r| r.id == rule),
                    "{}: no scenario in features/{api}/ is tagged @{rule}",
                    profile.name
                );
            }
        }
    }
}
