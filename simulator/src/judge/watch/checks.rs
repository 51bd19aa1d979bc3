//! The per-API checks of a judged connection: what each document asks of a client's
//! messages, and the verdicts settled when the connection ends.

use super::*;

impl Observed {
    pub(super) fn molecule(&mut self, first: bool, frame: &Inbound<'_>) {
        use telewire_protocols::molecule::ClientMessage;
        if !first {
            return;
        }
        let rule = rules::MOLECULE_HANDSHAKE;
        match frame {
            Inbound::Text(text) => self.fail(
                rule,
                format!(
                    "the first frame is a text frame ({} bytes), not a binary handshake",
                    text.len()
                ),
            ),
            Inbound::Binary(bytes) => match ClientMessage::decode(bytes) {
                Ok(ClientMessage::Handshake(hs)) => {
                    self.pass(
                        rule,
                        format!(
                            "binary handshake for gateway {:?} with a token of {} bytes",
                            hs.gateway_id(),
                            hs.token().len()
                        ),
                    );
                    let token = fingerprint(hs.token());
                    self.token = Some(token);
                    let judge = self.ticket.judge.clone();
                    match judge.repeats_refused_token(self.ticket.peer, token) {
                        Some(true) => self.fail(
                            rules::MOLECULE_REAUTH,
                            "the handshake carries the token refused on the previous connection"
                                .into(),
                        ),
                        Some(false) => self.pass(
                            rules::MOLECULE_REAUTH,
                            "a new token after the previous connection's was refused".into(),
                        ),
                        None => {}
                    }
                }
                Ok(_) => self.fail(
                    rule,
                    format!(
                        "the first frame starts {}, not the connection marker 01 02",
                        hex(bytes)
                    ),
                ),
                Err(err) => self.fail(rule, format!("the handshake does not decode: {err}")),
            },
        }
    }

    pub(super) fn valtronics(&mut self, frame: &Inbound<'_>) {
        use telewire_protocols::valtronics::ClientMessage;
        let limits = rules::VALTRONICS_LIMITS;
        if frame.len() > VALTRONICS_MAX_MESSAGE {
            self.fail(
                limits,
                format!(
                    "sent a message of {} bytes (limit {VALTRONICS_MAX_MESSAGE})",
                    frame.len()
                ),
            );
        }
        if self.recent.len() > VALTRONICS_MAX_PER_SECOND {
            self.fail(
                limits,
                format!(
                    "sent {} messages within one second (limit {VALTRONICS_MAX_PER_SECOND})",
                    self.recent.len()
                ),
            );
        }
        let Inbound::Text(text) = frame else {
            if self.auth != Auth::Accepted {
                self.fail(
                    rules::VALTRONICS_AUTH_FIRST,
                    "sent a binary frame before authenticating".into(),
                );
            }
            return;
        };
        let json: Option<Value> = serde_json::from_str(text).ok();
        let kind = json
            .as_ref()
            .and_then(|v| v.get("type"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(items) = json
            .as_ref()
            .filter(|_| kind.as_deref() == Some("batch"))
            .and_then(|v| v.get("messages"))
            .and_then(Value::as_array)
        {
            let n = items.len();
            self.largest_batch = Some(self.largest_batch.unwrap_or(0).max(n));
            if n > VALTRONICS_MAX_BATCH {
                self.fail(
                    limits,
                    format!("sent a batch of {n} items (limit {VALTRONICS_MAX_BATCH})"),
                );
            }
        }
        match kind.as_deref() {
            Some("auth") => {
                self.auth_messages += 1;
                if let Err(err) = ClientMessage::decode(text) {
                    self.fail(
                        rules::VALTRONICS_AUTH_FORMAT,
                        format!("the auth message does not decode as documented: {err}"),
                    );
                }
            }
            Some("ping") => {}
            other if self.auth != Auth::Accepted => {
                let what = other.map_or_else(
                    || "a message without a string \"type\"".to_owned(),
                    |t| format!("a {t:?} message"),
                );
                self.fail(
                    rules::VALTRONICS_AUTH_FIRST,
                    format!("sent {what} before authenticating"),
                );
            }
            _ => {}
        }
    }

    pub(super) fn webmacs(&mut self, frame: &Inbound<'_>) {
        if !self.ticket.path.contains("controller") {
            return;
        }
        let Inbound::Text(text) = frame else { return };
        let Ok(json) = serde_json::from_str::<Value>(text) else {
            return;
        };
        if let Some(n) = json
            .get("datapoints")
            .and_then(Value::as_array)
            .map(Vec::len)
        {
            self.largest_batch = Some(self.largest_batch.unwrap_or(0).max(n));
            if n > WEBMACS_MAX_BATCH {
                self.fail(
                    rules::WEBMACS_BATCH,
                    format!("sent a batch of {n} datapoints (limit {WEBMACS_MAX_BATCH})"),
                );
            }
        }
    }

    pub(super) fn mosaic(&mut self, frame: &Inbound<'_>) {
        use telewire_protocols::mosaic::ClientMessage;
        if self.security != Some(true) {
            return;
        }
        let Inbound::Text(text) = frame else { return };
        let (what, token) = match ClientMessage::decode(text) {
            Ok(ClientMessage::Request(r)) => ("request", r.token.is_some()),
            Ok(ClientMessage::Subscribe(s)) => ("subscribe", s.token.is_some()),
            _ => return,
        };
        self.requests += 1;
        if !token {
            self.fail(
                rules::MOSAIC_TOKEN,
                format!("a {what} message without a token attribute: {}", clip(text)),
            );
        }
    }

    pub(super) fn robot(&mut self, frame: &Inbound<'_>) {
        use telewire_protocols::robot::ClientMessage;
        let rule = rules::ROBOT_MESSAGES;
        match frame {
            Inbound::Binary(bytes) => self.fail(
                rule,
                format!("sent a binary frame of {} bytes", bytes.len()),
            ),
            Inbound::Text(text) => {
                if let Err(err) = ClientMessage::decode(text) {
                    self.fail(
                        rule,
                        format!("{:?} is not a documented message: {err}", clip(text)),
                    );
                }
            }
        }
    }

    pub(super) fn finish_valtronics(&mut self) {
        if self.auth_messages == 0 && self.auth != Auth::Accepted {
            self.fail(
                rules::VALTRONICS_AUTH_FORMAT,
                "the client sent no auth message".into(),
            );
        }
        if self.auth_messages > 0 || self.auth == Auth::Accepted {
            self.pass(
                rules::VALTRONICS_AUTH_FIRST,
                "nothing but auth or ping before the auth_response".into(),
            );
        }
        if self.inbound > 0 {
            let batch = self
                .largest_batch
                .map(|n| format!(", largest batch {n} items"))
                .unwrap_or_default();
            self.pass(
                rules::VALTRONICS_LIMITS,
                format!(
                    "largest message {} bytes, at most {} message(s) in one second{batch}",
                    self.largest_message, self.peak_per_second
                ),
            );
        }
    }

    pub(super) fn finish_timeout(
        &mut self,
        now: Timestamp,
        settings: &crate::judge::JudgeSettings,
    ) {
        let Some(at) = self.zero_reply else { return };
        let rule = rules::MOSAIC_TIMEOUT;
        let after = now.saturating_since(at).as_millis();
        if self.after_zero_reply > 0 {
            let n = self.after_zero_reply;
            self.fail(
                rule,
                format!("sent {n} more message(s) after the all-zero keepalive reply"),
            );
        } else if self.client_close.is_none() || now.saturating_since(at) > settings.timeout_grace {
            self.fail(
                rule,
                format!(
                    "still connected {after} ms after the all-zero keepalive reply (grace {} ms)",
                    settings.timeout_grace.as_millis()
                ),
            );
        } else {
            self.pass(
                rule,
                format!("closed {after} ms after the all-zero keepalive reply"),
            );
        }
    }

    pub(super) fn finish_unknown(
        &mut self,
        now: Timestamp,
        settings: &crate::judge::JudgeSettings,
    ) {
        let Some(at) = self.injected else { return };
        let rule = rules::unknown_type(self.api);
        let after = now.saturating_since(at);
        match self.client_close {
            Some(Some(code)) if REJECTING_CLOSES.contains(&code) => {
                return self.fail(
                    rule,
                    format!(
                        "closed with {code} {} ms after the undocumented frame",
                        after.as_millis()
                    ),
                );
            }
            _ => {}
        }
        if self.after_injection > 0 {
            let n = self.after_injection;
            self.pass(
                rule,
                format!("stayed connected and sent {n} message(s) after the undocumented frame"),
            );
        } else if after >= settings.unknown_grace {
            self.pass(
                rule,
                format!(
                    "stayed connected for {} ms after the undocumented frame",
                    after.as_millis()
                ),
            );
        } else if self.client_close == Some(None) {
            // A normal close (1000, 1001) this soon says nothing either way; going away
            // without a close frame is what a client that crashed on the frame does.
            self.fail(
                rule,
                format!(
                    "went away without a close frame {} ms after the undocumented frame, having sent nothing more",
                    after.as_millis()
                ),
            );
        } else if let Some(Some(code)) = self.client_close
            && !matches!(code, 1000 | 1001)
        {
            self.fail(
                rule,
                format!(
                    "closed with {code} {} ms after the undocumented frame, having sent nothing more",
                    after.as_millis()
                ),
            );
        }
    }
}
