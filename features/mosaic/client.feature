Feature: Mosaic client conformance
  Judge mode (`telewire serve mosaic --judge`) watches each connected client and judges it
  against what mosaic.txt asks of clients. Each scenario runs a well-behaved scripted
  client, then a misbehaving one, against a fresh judged simulator (controller security on;
  the keepalive interval is shortened to 400 ms, a silence over 600 ms failing, so that
  the scenario stays fast).

  @mosaic.client.keepalive @should @client
  Scenario: The client sends a message about every keepalive interval
    Spec: "A message should be sent every ~10 seconds to keep the connection alive. A keepalive message may be an empty JSON object."
    Given a judged mosaic simulator
    When judged client "good" connects to "/query"
    And judged client "good" sends '{"token":"{token}"}'
    And judged client "good" receives a message
    And judged client "good" waits 150 ms
    And judged client "good" sends '{"token":"{token}"}'
    And judged client "good" waits 150 ms
    And judged client "good" sends '{"token":"{token}"}'
    And judged client "good" waits 150 ms
    And judged client "good" sends '{"token":"{token}"}'
    And judged client "good" waits 150 ms
    And judged client "good" sends '{"token":"{token}"}'
    And judged client "good" waits 150 ms
    And judged client "good" sends '{"token":"{token}"}'
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "mosaic.client.keepalive"
    Given a judged mosaic simulator
    When judged client "bad" connects to "/query"
    And judged client "bad" sends '{"token":"{token}"}'
    And judged client "bad" receives a message
    And judged client "bad" waits 1000 ms
    And judged client "bad" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 fails "mosaic.client.keepalive" observing "longest silence"

  @mosaic.client.token @must @client
  Scenario: With security on, every request and subscription carries the token
    Spec: "The token attribute must be added to the transmitted JSON with the bearer token received from authenticating a user."
    Given a judged mosaic simulator
    When judged client "good" connects to "/query"
    And judged client "good" sends '{"request":"system","id":1,"token":"{token}"}'
    And judged client "good" receives a message containing "system"
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "mosaic.client.token"
    Given a judged mosaic simulator
    When judged client "bad" connects to "/query"
    And judged client "bad" sends '{"request":"system","id":1}'
    And judged client "bad" receives a message containing "error"
    And judged client "bad" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 fails "mosaic.client.token" observing "without a token"

  @mosaic.client.session-timeout @should @client
  Scenario: After an all-zero keepalive reply the client closes the WebSocket
    Spec: "If the response contains a binary object of all zeros, that indicates that the session has timed out. You should close the WebSocket and re-authenticate"
    Given a judged mosaic simulator
    When judged client "good" connects to "/query"
    And judged client "good" sends '{"token":"not-a-jwt"}'
    And judged client "good" receives a message
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "mosaic.client.session-timeout"
    Given a judged mosaic simulator
    When judged client "bad" connects to "/query"
    And judged client "bad" sends '{"token":"not-a-jwt"}'
    And judged client "bad" receives a message
    And judged client "bad" sends '{"request":"system","id":1,"token":"not-a-jwt"}'
    And judged client "bad" receives a message containing "error"
    And judged client "bad" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 fails "mosaic.client.session-timeout" observing "after the all-zero keepalive reply"

  @mosaic.client.unknown-type @may @client
  Scenario: A message of an undocumented shape does not stop the client
    Spec: The document does not say; the simulator checks that a client tolerates a message of an undocumented shape.
    Given a judged mosaic simulator
    When judged client "good" connects to "/query"
    And judged client "good" sends '{"token":"{token}"}'
    And judged client "good" receives the undocumented frame
    And judged client "good" sends '{"request":"system","id":2,"token":"{token}"}'
    And judged client "good" receives a message containing "system"
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "mosaic.client.unknown-type"
    Given a judged mosaic simulator
    When judged client "bad" connects to "/query"
    And judged client "bad" sends '{"token":"{token}"}'
    And judged client "bad" receives the undocumented frame
    And judged client "bad" closes with code 1003
    Then the judge reports 1 connection
    And judged connection 0 fails "mosaic.client.unknown-type" observing "closed with 1003"
