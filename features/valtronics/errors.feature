Feature: Valtronics error replies
  "Validate all incoming message structures". The document defines no error reply; the
  simulator answers {"type":"error","error":"<code>","message":"..."} and keeps the connection.

  @valtronics.errors.bad_input @may @server
  Scenario Outline: <kind> gets error "<code>" and the connection is still open
    Spec: "Validate all incoming message structures" and "Sanitize message content".
    Given the client is authenticated on the /ws endpoint
    When the client sends the JSON text <message>
    Then the server replies with an error "<code>"
    And the connection is still open

    Examples:
      | kind                        | message                                                                      | code            |
      | Text that is not JSON       | {not json                                                                    | invalid_message |
      | A JSON array                | [1,2,3]                                                                      | invalid_message |
      | A message without a type    | {"channel":"telemetry"}                                                      | invalid_message |
      | An unknown type             | {"type":"hello"}                                                             | invalid_message |
      | A subscribe without channel | {"type":"subscribe"}                                                         | invalid_message |
      | A string device_id          | {"type":"subscribe","channel":"telemetry","device_id":"one"}                 | invalid_message |
      | An unknown channel          | {"type":"subscribe","channel":"weather"}                                     | unknown_channel |
      | A filter of another channel | {"type":"subscribe","channel":"system","filters":{"severity":["critical"]}}  | invalid_filter  |
      | An unknown frequency        | {"type":"subscribe","channel":"telemetry","filters":{"frequency":"often"}}   | invalid_filter  |
      | An unsubscribe not held     | {"type":"unsubscribe","channel":"alerts"}                                    | not_subscribed  |

  @valtronics.errors.not_authenticated @may @server
  Scenario: A subscribe before auth gets error "not_authenticated"
    Spec: "Always validate JWT tokens before allowing connections" (the document defines no error reply).
    When the client connects to the /ws endpoint
    And the client sends the JSON text {"type":"subscribe","channel":"telemetry"}
    Then the server replies with an error "not_authenticated"

  @valtronics.errors.binary @may @server
  Scenario: A binary message closes with 1003
    Spec: "Message Format" is JSON text throughout; the document defines no binary message.
    Given the client is authenticated on the /ws endpoint
    When the client sends a binary message
    Then the server closes the connection with code 1003
