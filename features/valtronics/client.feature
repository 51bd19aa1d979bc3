Feature: Valtronics client conformance
  Judge mode (`telewire serve valtronics --judge`) watches each connected client and judges
  it against what valtronics.txt asks of clients. Each scenario runs a well-behaved scripted
  client, then a misbehaving one, against a fresh judged simulator.

  @valtronics.client.auth-format @must @client
  Scenario: The client authenticates with the documented auth message and a valid token
    Spec: "After connection, authenticate with JWT token:" { "type": "auth", "token": "jwt-token-string" }
    Given a judged valtronics simulator
    When judged client "good" connects to "/ws"
    And judged client "good" sends '{"type":"auth","token":"{token}"}'
    And judged client "good" receives a message containing "auth_response"
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "valtronics.client.auth-format"
    Given a judged valtronics simulator
    When judged client "bad" connects to "/ws"
    And judged client "bad" sends '{"type":"auth","jwt":"{token}"}'
    And judged client "bad" receives a message containing "error"
    And judged client "bad" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 fails "valtronics.client.auth-format" observing "does not decode"

  @valtronics.client.auth-first @must @client
  Scenario: Nothing but auth or ping comes before a successful auth
    Spec: "After connection, authenticate with JWT token" (step 2), then "Subscribe to specific data channels" (step 3).
    Given a judged valtronics simulator
    When judged client "good" connects to "/ws"
    And judged client "good" sends '{"type":"ping"}'
    And judged client "good" receives a message containing "pong"
    And judged client "good" sends '{"type":"auth","token":"{token}"}'
    And judged client "good" receives a message containing "auth_response"
    And judged client "good" sends '{"type":"subscribe","channel":"alerts"}'
    And judged client "good" receives a message containing "subscribed"
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "valtronics.client.auth-first"
    Given a judged valtronics simulator
    When judged client "bad" connects to "/ws"
    And judged client "bad" sends '{"type":"subscribe","channel":"alerts"}'
    And judged client "bad" receives a message containing "not_authenticated"
    And judged client "bad" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 fails "valtronics.client.auth-first" observing "before authenticating"

  @valtronics.client.message-limits @must @client
  Scenario: The client keeps to 1 KiB messages, batches of 50 and 100 messages per second
    Spec: "Maximum 100 messages per second per connection", "Maximum 1KB message size", "Batch messages limited to 50 items"
    Given a judged valtronics simulator
    When judged client "good" connects to "/ws"
    And judged client "good" sends '{"type":"auth","token":"{token}"}'
    And judged client "good" receives a message containing "auth_response"
    And judged client "good" sends a Valtronics batch of 50 pings
    And judged client "good" receives a message containing "pong"
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "valtronics.client.message-limits"
    Given a judged valtronics simulator
    When judged client "bad" connects to "/ws"
    And judged client "bad" sends '{"type":"auth","token":"{token}"}'
    And judged client "bad" receives a message containing "auth_response"
    And judged client "bad" sends a Valtronics batch of 51 pings
    And judged client "bad" receives a message containing "error"
    And judged client "bad" closes with code 1000
    And judged client "big" connects to "/ws"
    And judged client "big" sends '{"type":"auth","token":"{token}"}'
    And judged client "big" receives a message containing "auth_response"
    And judged client "big" sends a Valtronics ping of 1100 bytes
    And judged client "big" is closed by the server
    Then the judge reports 2 connections
    And judged connection 0 fails "valtronics.client.message-limits" observing "batch of 51"
    And judged connection 1 fails "valtronics.client.message-limits" observing "1100 bytes"

  @valtronics.client.connection-rate @must @client
  Scenario: The client opens at most 10 connections a minute
    Spec: "Connection rate limited to 10 per minute"
    Given a judged valtronics simulator
    When judged client "good" connects to "/ws" and closes with code 1000, 10 times
    Then the judge reports 10 connections
    And judged connection 9 passes "valtronics.client.connection-rate"
    Given a judged valtronics simulator
    When judged client "bad" connects to "/ws" and closes with code 1000, 11 times
    Then the judge reports 11 connections
    And judged connection 9 passes "valtronics.client.connection-rate"
    And judged connection 10 fails "valtronics.client.connection-rate" observing "connection 11"

  @valtronics.client.reconnect-backoff @should @client
  Scenario: After a lost connection the client waits before reconnecting, longer each time
    Spec: setTimeout(() => { this.connect(); }, this.reconnectInterval * this.reconnectAttempts); with reconnectInterval = 1000
    Given a judged valtronics simulator
    When judged client "good" connects to "/ws"
    And judged client "good" sends a Valtronics ping of 1100 bytes
    And judged client "good" is closed by the server
    And judged client "good" waits 500 ms
    And judged client "good" connects to "/ws"
    And judged client "good" sends a Valtronics ping of 1100 bytes
    And judged client "good" is closed by the server
    And judged client "good" waits 1000 ms
    And judged client "good" connects to "/ws"
    And judged client "good" closes with code 1000
    Then the judge reports 3 connections
    And judged connection 1 passes "valtronics.client.reconnect-backoff"
    And judged connection 2 passes "valtronics.client.reconnect-backoff"
    Given a judged valtronics simulator
    When judged client "bad" connects to "/ws"
    And judged client "bad" sends a Valtronics ping of 1100 bytes
    And judged client "bad" is closed by the server
    And judged client "bad" connects to "/ws"
    And judged client "bad" closes with code 1000
    Then the judge reports 2 connections
    And judged connection 1 fails "valtronics.client.reconnect-backoff" observing "minimum"

  @valtronics.client.unknown-type @should @client
  Scenario: A message of an unknown type is logged and ignored
    Spec: default: console.log('Unknown message type:', data.type);
    Given a judged valtronics simulator
    When judged client "good" connects to "/ws"
    And judged client "good" sends '{"type":"auth","token":"{token}"}'
    And judged client "good" receives the undocumented frame
    And judged client "good" sends '{"type":"ping"}'
    And judged client "good" receives a message containing "pong"
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "valtronics.client.unknown-type"
    Given a judged valtronics simulator
    When judged client "bad" connects to "/ws"
    And judged client "bad" sends '{"type":"auth","token":"{token}"}'
    And judged client "bad" receives the undocumented frame
    And judged client "bad" closes with code 1003
    Then the judge reports 1 connection
    And judged connection 0 fails "valtronics.client.unknown-type" observing "closed with 1003"
