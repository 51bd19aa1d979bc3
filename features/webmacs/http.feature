Feature: WebMACS polling fallback
  "After 3 consecutive failures, falls back to GET /api/v1/datapoints/latest every 1500ms".

  @webmacs.http.latest_requires_token @should @server @needs.http
  Scenario: GET /api/v1/datapoints/latest without a bearer token is refused with 401
    Spec: "falls back to GET /api/v1/datapoints/latest every 1500ms" (the endpoint needs Authorization: Bearer, as on the real backend).
    When the client requests GET /api/v1/datapoints/latest without a token
    Then the HTTP status is 401

  @webmacs.http.latest_shape @should @server @needs.http @needs.events
  Scenario: The latest datapoints hold one record per event with the documented fields
    Spec: "falls back to GET /api/v1/datapoints/latest" which "returns one item per event: public_id, value, timestamp, event_public_id, experiment_public_id".
    Given a stream client
    And a controller connection
    When the controller pushes a reading of the first configured event until the stream shows it
    And the client requests GET /api/v1/datapoints/latest with the configured token
    Then the HTTP status is 200
    And the body holds one record per event, the first configured event's with the reading the stream showed
