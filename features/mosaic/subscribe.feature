Feature: Mosaic subscriptions
  "To create a subscription to a broadcast channel, send a JSON object over the WebSocket
  connection in the following format: {"subscribe": "{{channel-name}}"}".

  @mosaic.subscribe.broadcast @must @server @needs.broadcasts
  Scenario Outline: A subscription to "<channel>" brings its broadcasts
    Spec: "To create a subscription to a broadcast channel, send a JSON object over the WebSocket connection in the following format: { "subscribe": "{{channel-name}}" }"
    Given a client connected to the query endpoint
    When the client subscribes to "<channel>" with the configured token
    Then a broadcast of "<channel>" arrives with its data

    Examples:
      | channel        |
      | timeline       |
      | scene          |
      | group          |
      | remote_device  |
      | beacon         |
      | content_target |
      | lua            |
      | io_module      |
      | log            |

  @mosaic.subscribe.only_subscribed @must @server @needs.broadcasts
  Scenario: A client receives broadcasts of the channels it subscribed to only
    Spec: "To create a subscription to a broadcast channel, send a JSON object ..." (a subscription is per channel).
    Given a client connected to the query endpoint
    When the client subscribes to "group" with the configured token
    Then the next 5 broadcasts are all of "group"

  @mosaic.subscribe.token_error_reply @may @server @needs.security
  Scenario: A subscription without a token gets the error reply "token_missing"
    Spec: "The token attribute must be added to the transmitted JSON" with {"subscribe": "{{channel-name}}", "token": "{{bearer-token}}"}.
    Given a client connected to the query endpoint
    When the client subscribes to "group" without a token
    Then the server answers with the error reply "token_missing"

  @mosaic.subscribe.not_subscribable @may @server
  Scenario Outline: A subscription to the request-only channel "<channel>" gets the error reply "not_subscribable"
    Spec: The function table marks "<channel>" ✖ under "Subscribe"; the document defines no error reply.
    Given a client connected to the query endpoint
    When the client subscribes to "<channel>" with the configured token
    Then the server answers with the error reply "not_subscribable"

    Examples:
      | channel          |
      | system           |
      | current_time     |
      | network_adapters |
