Feature: WebMACS client conformance
  Judge mode (`telewire serve webmacs --judge`) watches each connected client and judges it
  against what webmacs.md asks of clients. Each scenario runs a well-behaved scripted
  client, then a misbehaving one, against a fresh judged simulator.

  @webmacs.client.token-query @must @client
  Scenario: The client passes a valid token in the token query parameter
    Spec: "All WebSocket endpoints require a valid JWT token passed as a query parameter" ws://your-host/ws/controller/telemetry?token=<jwt>
    Given a judged webmacs simulator
    When judged client "good" connects to "/ws/datapoints/stream?token={token}"
    And judged client "good" receives a message containing "connected"
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "webmacs.client.token-query"
    Given a judged webmacs simulator
    When judged client "bad" connects to "/ws/datapoints/stream"
    And judged client "bad" is closed by the server
    And judged client "worse" connects to "/ws/datapoints/stream?token=not-a-jwt"
    And judged client "worse" is closed by the server
    Then the judge reports 2 connections
    And judged connection 0 fails "webmacs.client.token-query" observing "no token query parameter"
    And judged connection 1 fails "webmacs.client.token-query" observing "Invalid or expired token"

  @webmacs.client.batch-limit @must @client
  Scenario: The controller sends batches of at most 500 datapoints
    Spec: "datapoints | array | Yes | Batch of readings (max 500 items)"; "The controller automatically chunks large batches via WEBMACS_MAX_BATCH_SIZE."
    Given a judged webmacs simulator
    When judged client "good" connects to "/ws/controller/telemetry?token={token}"
    And judged client "good" sends a WebMACS batch of 500 datapoints
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "webmacs.client.batch-limit"
    Given a judged webmacs simulator
    When judged client "bad" connects to "/ws/controller/telemetry?token={token}"
    And judged client "bad" sends a WebMACS batch of 501 datapoints
    And judged client "bad" receives a message containing "Batch too large"
    And judged client "bad" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 fails "webmacs.client.batch-limit" observing "501 datapoints"

  @webmacs.client.unknown-type @may @client
  Scenario: A message of an undocumented type does not stop the client
    Spec: The document does not say; the simulator checks that a dashboard client tolerates a message of an undocumented type.
    Given a judged webmacs simulator
    When judged client "good" connects to "/ws/datapoints/stream?token={token}"
    And judged client "good" receives the undocumented frame
    And judged client "good" sends '{"type":"ping"}'
    And judged client "good" receives a message containing "pong"
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "webmacs.client.unknown-type"
    Given a judged webmacs simulator
    When judged client "bad" connects to "/ws/datapoints/stream?token={token}"
    And judged client "bad" receives the undocumented frame
    And judged client "bad" closes with code 1003
    Then the judge reports 1 connection
    And judged connection 0 fails "webmacs.client.unknown-type" observing "closed with 1003"
