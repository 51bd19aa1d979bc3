Feature: Robot client conformance
  Judge mode (`telewire serve robot --judge`) watches each connected client and judges it
  against what robot.txt asks of clients. Each scenario runs a well-behaved scripted
  client, then a misbehaving one, against a fresh judged simulator.

  @robot.client.token-query @must @client
  Scenario: The client passes a valid JWT in the token query parameter
    Spec: "To connect to the WebSocket, use the WebSocket URL and include the JWT token in the initial request as a query parameter."
    Given a judged robot simulator
    When judged client "good" connects to "/wss?token={token}"
    And judged client "good" sends '{"action":"subscribe","topic":"server_logs"}'
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "robot.client.token-query"
    Given a judged robot simulator
    When judged client "bad" is refused or closed connecting to "/wss"
    And judged client "worse" is refused or closed connecting to "/wss?token=not-a-jwt"
    Then the judge reports 2 connections
    And judged connection 0 fails "robot.client.token-query" observing "no token query parameter"
    And judged connection 1 fails "robot.client.token-query" observing "refused"

  @robot.client.message-format @must @client
  Scenario: Every message is a documented subscribe, unsubscribe or publish
    Spec: To subscribe to a topic: { "action": "subscribe", "topic": "some_topic" } (likewise unsubscribe, and publish with data {name, type, data})
    Given a judged robot simulator
    When judged client "good" connects to "/wss?token={token}"
    And judged client "good" sends '{"action":"subscribe","topic":"arm"}'
    And judged client "good" sends '{"action":"publish","topic":"arm","data":{"name":"joint","type":"float","data":"1.5"}}'
    And judged client "good" receives a message containing "joint"
    And judged client "good" sends '{"action":"unsubscribe","topic":"arm"}'
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "robot.client.message-format"
    Given a judged robot simulator
    When judged client "bad" connects to "/wss?token={token}"
    And judged client "bad" sends '{"action":"listen","topic":"arm"}'
    And judged client "bad" receives a message containing "error"
    And judged client "bad" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 fails "robot.client.message-format" observing "not a documented message"

  @robot.client.unknown-type @may @client
  Scenario: A message of an undocumented shape does not stop the client
    Spec: The document does not say; the simulator checks that a client tolerates a message of an undocumented shape.
    Given a judged robot simulator
    When judged client "good" connects to "/wss?token={token}"
    And judged client "good" receives the undocumented frame
    And judged client "good" sends '{"action":"subscribe","topic":"arm"}'
    And judged client "good" sends '{"action":"publish","topic":"arm","data":{"name":"joint","type":"float","data":"2.5"}}'
    And judged client "good" receives a message containing "joint"
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "robot.client.unknown-type"
    Given a judged robot simulator
    When judged client "bad" connects to "/wss?token={token}"
    And judged client "bad" receives the undocumented frame
    And judged client "bad" closes with code 1003
    Then the judge reports 1 connection
    And judged connection 0 fails "robot.client.unknown-type" observing "closed with 1003"
