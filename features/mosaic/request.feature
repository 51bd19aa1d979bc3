Feature: Mosaic requests
  "Some commands allow values to be requested over the WebSocket. Requests can include an id
  value which is simply a number which is reported with the reply".

  @mosaic.request.reply @must @server
  Scenario Outline: A request for "<channel>" is answered with its channel, its id and its data
    Spec: "Requests can include an id value which is simply a number which is reported with the reply" and the table marks "<channel>" as requestable.
    Given a client connected to the query endpoint
    When the client requests "<channel>" with id 7 and the configured token
    Then the reply to "<channel>" with id 7 carries its data

    Examples:
      | channel          |
      | network_adapters |
      | timeline         |
      | scene            |
      | group            |
      | content_target   |
      | remote_device    |
      | log              |
      | system           |
      | current_time     |
      | project          |
      | controller       |
      | text_slot        |
      | temperature      |
      | fan_speed        |
      | protocol         |
      | output           |
      | input            |
      | trigger          |
      | dali_interface   |
      | replication      |
      | config           |
      | playback_group   |

  @mosaic.request.system_fields @must @server
  Scenario: The system reply carries the document's fields
    Spec: Response message: {"request": "system", "id": 1, "data": {"hardware_type": "VLC", "channel_capacity": 768000, "serial_number": "030208", ...}}
    Given a client connected to the query endpoint
    When the client requests "system" with id 1 and the configured token
    Then the reply to "system" with id 1 has the fields hardware_type, channel_capacity, serial_number, memory_total, memory_used, memory_available, storage_size, bootloader_version, firmware_version, reset_reason, last_boot_time, ip_address, subnet_mask, default_gateway

  @mosaic.request.concurrent @must @server
  Scenario: Two requests in flight are told apart by their ids
    Spec: "the number can be used to track multiple requests occurring at once."
    Given a client connected to the query endpoint
    When the client requests "system" with id 1 and the configured token
    And the client requests "current_time" with id 2 and the configured token
    Then the reply to "system" with id 1 carries its data
    And the reply to "current_time" with id 2 carries its data

  @mosaic.request.without_id @should @server
  Scenario: A request without an id is answered with its channel and no id
    Spec: "Requests can include an id value" (one real client sends none and matches replies by "request", first in, first out).
    Given a client connected to the query endpoint
    When the client requests "current_time" without an id
    Then the reply to "current_time" without an id carries its data

  @mosaic.request.fifo @should @server
  Scenario: Replies to requests without ids come in the order of the requests
    Spec: "Requests can include an id value" (one real client sends none and matches replies first-in-first-out by "request").
    Given a client connected to the query endpoint
    When the client requests "current_time" without an id
    And the client requests "system" without an id
    And the client requests "network_adapters" without an id
    Then the replies come in the order current_time, system, network_adapters

  @mosaic.request.remote_device_hyphen @should @server
  Scenario: The table's spelling "remote-device" is answered like "remote_device"
    Spec: The table spells the channel "remote-device"; clients use "remote_device".
    Given a client connected to the query endpoint
    When the client requests "remote-device" with id 3 and the configured token
    Then the reply to "remote-device" with id 3 carries its data

  @mosaic.request.not_requestable @must @server
  Scenario Outline: A request for the subscribe-only channel "<channel>" is not answered with data
    Spec: The function table marks "<channel>" ✖ under "Request".
    Given a client connected to the query endpoint
    When the client requests "<channel>" with id 5 and the configured token
    Then the request with id 5 is not answered with data

    Examples:
      | channel   |
      | beacon    |
      | lua       |
      | io_module |

  @mosaic.request.error_reply @may @server
  Scenario Outline: A request for <kind> gets the error reply "<code>"
    Spec: "The complete set of available commands for request is listed below." The document defines no error reply.
    Given a client connected to the query endpoint
    When the client requests "<channel>" with id 5 and the configured token
    Then the server answers with the error reply "<code>"

    Examples:
      | kind                    | channel   | code            |
      | a subscribe-only channel | beacon    | not_requestable |
      | a subscribe-only channel | io_module | not_requestable |
      | an unknown channel      | weather   | unknown_channel |

  @mosaic.request.bad_input @should @server
  Scenario Outline: Bad input (<kind>) leaves the connection serving requests
    Spec: "send a JSON object over the WebSocket connection in the following format" (other input is not a message; the connection stays usable).
    Given a client connected to the query endpoint
    When the client sends <kind>
    Then the connection still answers a request

    Examples:
      | kind                          |
      | the text 'not json'           |
      | the text '[1,2,3]'            |
      | the text '{"request":42}'   |
      | the text '{"hello":true}'   |
      | a binary frame                |

  @mosaic.request.bad_input_error @may @server
  Scenario Outline: Bad input (<kind>) gets the error reply "<code>"
    Spec: The document defines no error reply; the simulator answers {"error", "message"}.
    Given a client connected to the query endpoint
    When the client sends <kind>
    Then the server answers with the error reply "<code>"

    Examples:
      | kind                        | code             |
      | the text 'not json'         | malformed        |
      | the text '[1,2,3]'          | malformed        |
      | the text '{"hello":true}' | malformed        |
      | a binary frame              | unsupported_data |
