Feature: Robot error replies and limits
  The document defines no error replies and no limits: the simulator answers a message it
  cannot take with {"action": "error", "error": <code>, "message": <text>} and keeps the
  connection open (MAY: informational for a real server).

  @robot.errors.bad_input @may @server
  Scenario Outline: <kind> gets the error reply <code> and the connection stays open
    Spec: "To subscribe to a topic: {"action": "subscribe", "topic": "some_topic"}" (anything else is refused with an error reply, the simulator's choice).
    Given a connected client
    When the client sends the message <message>
    Then the client receives the error reply "<code>"
    And the connection stays open and serves a publish

    Examples:
      | kind                    | message                                             | code            |
      | invalid JSON            | {"action":"subscribe",                              | invalid_json    |
      | a JSON array            | ["subscribe","t"]                                   | invalid_message |
      | no action               | {"topic":"t"}                                       | unknown_action  |
      | an unknown action       | {"action":"listen","topic":"t"}                     | unknown_action  |
      | no topic                | {"action":"subscribe"}                              | missing_topic   |
      | a topic not a string    | {"action":"subscribe","topic":7}                    | invalid_topic   |
      | an empty topic          | {"action":"subscribe","topic":""}                   | invalid_topic   |
      | a publish without data  | {"action":"publish","topic":"t"}                    | invalid_data    |
      | a payload without type  | {"action":"publish","topic":"t","data":{"name":"n","data":1}} | invalid_data |
      | a data string not JSON  | {"action":"publish","topic":"t","data":"nope"}      | invalid_data    |

  @robot.errors.binary_frame @may @server
  Scenario: A binary frame gets the error reply unsupported_frame
    Spec: The document's clients send JSON text ("JSON.stringify", "json.dumps"); a binary frame is refused with an error reply (the simulator's choice).
    Given a connected client
    When the client sends a binary frame to the broker
    Then the client receives the error reply "unsupported_frame"
    And the connection stays open and serves a publish

  @robot.errors.reserved_topic @may @server
  Scenario: Publishing on server_logs gets the error reply reserved_topic
    Spec: "Some system logs are published by the WebSocket server on the "server_logs" topic" (only the server publishes there, the simulator's choice).
    Given a connected client
    When the client sends the message {"action":"publish","topic":"server_logs","data":{"name":"n","type":"info","data":"x"}}
    Then the client receives the error reply "reserved_topic"

  @robot.limits.message_size @may @server
  Scenario: A message over 64 KiB gets the error reply message_too_large
    Spec: The document states no size limit (the simulator takes messages up to 64 KiB and refuses larger ones with an error reply).
    Given a connected client
    When the client publishes a message of 70000 bytes
    Then the client receives the error reply "message_too_large"
    And the connection stays open and serves a publish

  @robot.limits.topic_length @may @server
  Scenario: A topic over 128 bytes gets the error reply topic_too_long
    Spec: The document states no topic limit (the simulator takes topics of 1 to 128 bytes).
    Given a connected client
    When the client subscribes to a topic of 129 bytes
    Then the client receives the error reply "topic_too_long"

  @robot.limits.rate @may @server
  Scenario: More than 100 messages in a second get the error reply rate_limited
    Spec: The document states no rate limit (the simulator takes 100 messages per second per connection and refuses the rest with an error reply).
    Given a connected client
    When the client sends 110 subscribe messages at once
    Then the client receives the error reply "rate_limited"

  @robot.limits.rate_close @may @server
  Scenario: A client that keeps exceeding the rate is closed with 1008
    Spec: The document states no rate limit (the simulator closes a connection with 1008 after 20 refused messages in a row).
    Given a connected client
    When the client sends 130 subscribe messages at once
    Then the server closes the connection with code 1008
