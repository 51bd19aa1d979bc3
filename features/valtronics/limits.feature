Feature: Valtronics limits
  "Rate Limiting ... Message Limits: Maximum 100 messages per second per connection,
  Maximum 1KB message size, Batch messages limited to 50 items".

  @valtronics.limits.message_size_accepted @must @server
  Scenario: A message of exactly 1024 bytes is accepted
    Spec: "Maximum 1KB message size".
    Given the client is authenticated on the /ws endpoint
    When the client sends a ping of 1024 bytes
    Then the server replies with a pong

  @valtronics.limits.message_size @must @server
  Scenario Outline: A message of <size> bytes closes the connection with 1009
    Spec: "Maximum 1KB message size" (an oversized message closes with 1009, Message Too Big).
    Given the client is authenticated on the /ws endpoint
    When the client sends a ping of <size> bytes
    Then the server closes the connection with code 1009

    Examples:
      | size |
      | 1025 |
      | 4096 |

  @valtronics.limits.batch_accepted @should @server
  Scenario: A batch of 50 pings is answered with 50 pongs
    Spec: "const batch = {type: 'batch', messages: [...this.messageQueue]}" and "Batch messages limited to 50 items".
    Given the client is authenticated on the /ws endpoint
    When the client sends a batch of 50 pings
    Then the server replies with 50 pongs

  @valtronics.limits.batch @must @server
  Scenario: A batch of 51 items is refused, none of its items processed
    Spec: "Batch messages limited to 50 items".
    Given the client is authenticated on the /ws endpoint
    When the client sends a batch of 51 pings
    Then the server refuses the message
    And the connection is still open

  @valtronics.limits.batch_error @may @server
  Scenario: A batch of 51 items gets error "batch_too_large"
    Spec: "Batch messages limited to 50 items" (the document defines no error reply).
    Given the client is authenticated on the /ws endpoint
    When the client sends a batch of 51 pings
    Then the server replies with an error "batch_too_large"

  @valtronics.limits.rate @must @server
  Scenario: The 101st message within a second is refused
    Spec: "Maximum 100 messages per second per connection".
    Given the client is authenticated on the /ws endpoint
    When the client sends 101 pings at once
    Then the server answers at most 100 of the 101 pings with a pong and refuses the others

  @valtronics.limits.rate_close @should @server
  Scenario: A client that goes on over the rate is closed with 1008
    Spec: "Implement rate limiting per connection"; rate exceeded: error reply, then close 1008 if it goes on.
    Given the client is authenticated on the /ws endpoint
    When the client sends 150 pings at once
    Then the server closes the connection with code 1008
