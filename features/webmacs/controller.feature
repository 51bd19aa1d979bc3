Feature: WebMACS controller telemetry
  "/ws/controller/telemetry" receives batches {"datapoints": [{"value", "event_public_id"}]}.

  @webmacs.controller.no_valid_datapoints @must @server
  Scenario Outline: A batch without a valid datapoint (<case>) gets the documented error
    Spec: "If no valid datapoints are found in a batch: { "type": "error", "message": "No valid datapoints in batch" }" and "Validates each datapoint (must have value and event_public_id)".
    Given a controller connection
    When the controller sends <batch>
    Then the controller receives {"type":"error","message":"No valid datapoints in batch"}

    Examples:
      | case                    | batch                                                   |
      | value missing           | {"datapoints":[{"event_public_id":"abc-123"}]}          |
      | event id missing        | {"datapoints":[{"value":23.5}]}                         |
      | value is a string       | {"datapoints":[{"value":"hot","event_public_id":"abc-123"}]} |
      | event id is a number    | {"datapoints":[{"value":23.5,"event_public_id":123}]}   |
      | entry is not an object  | {"datapoints":[42]}                                     |
      | empty batch             | {"datapoints":[]}                                       |

  @webmacs.controller.batch_too_large @must @server
  Scenario: A batch over 500 datapoints is rejected with an error message
    Spec: "Batches exceeding 500 datapoints are rejected with an error message."
    Given a controller connection
    When the controller sends a batch of 501 datapoints
    Then the controller receives an error reply

  @webmacs.controller.stays_open @should @server
  Scenario: A batch over 500 gets "Batch too large (N), max 500" and the connection stays open
    Spec: "A batch over 500 gets {"type":"error","message":"Batch too large (N), max 500"} and the socket stays open."
    Given a controller connection
    When the controller sends a batch of 501 datapoints
    And the controller sends {"datapoints":[{"value":23.5}]}
    Then the controller receives an error message "Batch too large (501), max 500"
    And the controller receives {"type":"error","message":"No valid datapoints in batch"}

  @webmacs.controller.success_silent @should @server @needs.events
  Scenario: An accepted batch gets no reply
    Spec: "A successful batch gets no reply."
    Given a controller connection
    When the controller sends a valid batch for the first configured event
    And the controller sends {"datapoints":[{"value":23.5}]}
    Then the controller receives {"type":"error","message":"No valid datapoints in batch"}

  @webmacs.controller.batch_limit_inclusive @should @server @needs.events
  Scenario: A batch of exactly 500 datapoints is accepted
    Spec: "datapoints | array | Yes | Batch of readings (max 500 items)".
    Given a controller connection
    When the controller sends a batch of 500 datapoints for the first configured event
    And the controller sends {"datapoints":[{"value":23.5}]}
    Then the controller receives {"type":"error","message":"No valid datapoints in batch"}

  @webmacs.controller.invalid_entries_dropped @should @server @needs.events
  Scenario: Invalid entries are dropped and the valid ones broadcast, without an error
    Spec: "Validates each datapoint (must have value and event_public_id)"; "Invalid entries are dropped; only when none is valid does the controller get" the error.
    Given a stream client
    And a controller connection
    When the controller pushes a reading of the first configured event with an entry without value until the stream shows it
    And the controller sends {"datapoints":[{"value":23.5}]}
    Then that broadcast holds only the reading of the first configured event
    And the controller receives {"type":"error","message":"No valid datapoints in batch"}

  @webmacs.controller.unknown_event_dropped @should @server @needs.events
  Scenario: Readings of unknown events are dropped silently
    Spec: "Filters by active plugin linkage — only events with an enabled plugin instance are accepted"; "Unknown event_public_ids are dropped silently."
    Given a stream client
    And a controller connection
    When the controller pushes a reading of the first configured event with a reading of an unknown event until the stream shows it
    And the controller sends {"datapoints":[{"value":23.5}]}
    Then that broadcast holds only the reading of the first configured event
    And the controller receives {"type":"error","message":"No valid datapoints in batch"}

  @webmacs.controller.malformed_message @may @server
  Scenario Outline: A message that is not a batch (<case>) gets an error reply and the socket stays open
    Spec: The document is silent on messages that are not {"datapoints": [...]}; the simulator answers {"type":"error","message":...}.
    Given a controller connection
    When the controller sends <message>
    Then the controller receives an error reply
    When the controller sends {"datapoints":[{"value":23.5}]}
    Then the controller receives {"type":"error","message":"No valid datapoints in batch"}

    Examples:
      | case             | message                       |
      | not JSON         | the text "not json"           |
      | no datapoints    | {"readings":[]}               |
      | a binary frame   | a binary frame                |
