Feature: Robot messages
  "To subscribe to a topic", "To unsubscribe from a topic", "To publish data to a topic";
  subscribers receive each published message as {name, type, data}.

  @robot.messages.delivery @should @server
  Scenario: A subscriber receives a published message as {name, type, data}
    Spec: "To publish data to a topic: {"action": "publish", "topic": "some_topic", "data": {"name": "name_of_data", "type": "type_of_data", "data": "your_data_here"}}"; subscribers receive it as {name, type, data}.
    Given a subscriber of a fresh topic
    And a publisher
    When the publisher publishes {"name":"name_of_data","type":"type_of_data","data":"your_data_here"} on that topic
    Then the subscriber receives exactly {"name":"name_of_data","type":"type_of_data","data":"your_data_here"}

  @robot.messages.structured_data @should @server
  Scenario: Structured data inside the payload is delivered unchanged
    Spec: "data": {"name": "name_of_data", "type": "type_of_data", "data": "your_data_here"} (the inner data may be any JSON value; real robots send objects).
    Given a subscriber of a fresh topic
    And a publisher
    When the publisher publishes {"name":"pose","type":"json","data":{"x":1.5,"y":-2}} on that topic
    Then the subscriber receives exactly {"name":"pose","type":"json","data":{"x":1.5,"y":-2}}

  @robot.messages.string_data @should @server
  Scenario: A payload sent as a JSON string (the official client) is delivered as an object
    Spec: "The official client sends data as a JSON string, so accept an object or a string holding one."
    Given a subscriber of a fresh topic
    And a publisher
    When the publisher publishes {"name":"battery_state","type":"json","data":42} as a JSON string on that topic
    Then the subscriber receives exactly {"name":"battery_state","type":"json","data":42}

  @robot.messages.unsubscribe @must @server
  Scenario: After unsubscribing, nothing more arrives on that topic
    Spec: "To unsubscribe from a topic: {"action": "unsubscribe", "topic": "some_topic"}".
    Given a subscriber of a fresh topic
    And a publisher
    When the subscriber unsubscribes from that topic
    And the publisher publishes {"name":"late","type":"text","data":"after unsubscribe"} on that topic
    Then the subscriber receives nothing more from that topic

  @robot.messages.only_subscribers @should @server
  Scenario: A connection not subscribed to a topic does not receive its messages
    Spec: "Subscribers of a topic receive each published message" (and only they).
    Given a subscriber of a fresh topic
    And a publisher
    When the publisher publishes {"name":"n","type":"text","data":"for subscribers"} on another fresh topic
    Then the subscriber receives nothing more from that topic

  @robot.messages.server_logs @must @server
  Scenario: The server publishes its log lines on server_logs
    Spec: "Some system logs are published by the WebSocket server on the "server_logs" topic. Subscribe to this topic to get the server messages."
    Given a subscriber of server_logs
    When another client connects and subscribes to a fresh topic
    Then the subscriber receives a message on server_logs

  @robot.messages.subscribe_twice @may @server
  Scenario: Subscribing twice to a topic delivers each message once
    Spec: "To subscribe to a topic: {"action": "subscribe", "topic": "some_topic"}" (a repeated subscribe is not an error and does not double deliveries, the simulator's choice).
    Given a subscriber of a fresh topic
    And a publisher
    When the subscriber subscribes to that topic again
    And the publisher publishes {"name":"once","type":"text","data":"one delivery"} on that topic
    Then the subscriber receives exactly {"name":"once","type":"text","data":"one delivery"}
    And the subscriber receives nothing more from that topic

  @robot.messages.publisher_echo @may @server
  Scenario: A publisher subscribed to the topic receives its own message
    Spec: "Subscribers of a topic receive each published message" (the publisher too, when it is subscribed: the simulator's choice).
    Given a subscriber of a fresh topic
    When the subscriber publishes {"name":"echo","type":"text","data":"mine"} on that topic
    Then the subscriber receives exactly {"name":"echo","type":"text","data":"mine"}
