Feature: WebMACS datapoint stream
  "/ws/datapoints/stream" is a read-only subscription endpoint for dashboards.

  @webmacs.stream.connected @must @server
  Scenario: The first message confirms the subscription
    Spec: "Immediately after authentication, the server sends: { "type": "connected", "message": "Subscribed to live datapoint stream." }".
    When the client connects to the stream endpoint with the configured token
    Then the first message is {"type":"connected","message":"Subscribed to live datapoint stream."}

  @webmacs.stream.ping @must @server
  Scenario: A ping is answered with a pong
    Spec: "Clients can send periodic pings to prevent connection timeouts: { "type": "ping" } Server responds: { "type": "pong" }".
    Given a stream client
    When the client sends {"type":"ping"} on the stream
    Then the next stream message has type "pong"

  @webmacs.stream.broadcast @must @server @needs.events
  Scenario: A pushed batch reaches the stream as datapoints_batch
    Spec: "When the controller pushes new sensor data, all connected frontends receive: { "type": "datapoints_batch", "datapoints": [ { value, event_public_id, timestamp, experiment_public_id } ] }".
    Given a stream client
    And a controller connection
    When the controller pushes a reading of the first configured event until the stream shows it
    Then that broadcast has value, event_public_id, an ISO 8601 timestamp and experiment_public_id

  @webmacs.stream.timestamp_offset @should @server @needs.events
  Scenario: Broadcast timestamps carry a UTC offset
    Spec: "datapoints[].timestamp | string | ISO 8601 timestamp" (the real backend sends an offset such as +00:00).
    Given a stream client
    And a controller connection
    When the controller pushes a reading of the first configured event until the stream shows it
    Then every timestamp of that broadcast has a UTC offset

  @webmacs.stream.throttle @must @server @needs.events
  Scenario: An event is broadcast at most once per 200 ms
    Spec: "Broadcasts to all connected frontends (throttled to ≥ 200 ms per event)".
    Given a stream client
    And a controller connection
    When the controller pushes a reading of the first configured event until the stream shows it
    And the controller at once pushes another reading of the first configured event
    And the controller pushes a reading of the second configured event until the stream shows it
    Then the stream never showed the second reading of the first event

  @webmacs.stream.read_only @may @server
  Scenario: A batch sent on the read-only stream gets an error reply
    Spec: "This is a read-only subscription endpoint for browser dashboards."
    Given a stream client
    When the client sends {"datapoints":[{"value":1.0,"event_public_id":"abc-123"}]} on the stream
    Then the next stream message has type "error"

  @webmacs.stream.one_message_per_batch @should @server @needs.events
  Scenario: One accepted batch is one datapoints_batch with one timestamp
    Spec: "One accepted batch produces one datapoints_batch message to every stream client" and "all datapoints in a batch share one" timestamp.
    Given a stream client
    And a controller connection
    When the controller pushes readings of the first and second configured events in one batch until the stream shows both
    Then that broadcast holds both readings with one shared timestamp
