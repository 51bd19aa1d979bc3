Feature: Valtronics channels and subscriptions
  "Subscribe to specific data channels": telemetry, alerts, devices and system, with
  filters spread at the top level (JavaScript client) or nested under "filters" (Python client).

  @valtronics.channels.telemetry_update @must @server @needs.data
  Scenario: A telemetry subscription receives telemetry_update messages of the documented shape
    Spec: "Telemetry Channel ... Message Format: {"type": "telemetry_update", "channel": "telemetry", "device_id": 1, "telemetry": {"temperature": {"value": 23.5, "unit": "°C", "timestamp": "2024-01-01T12:00:00Z"}}}".
    Given the client is authenticated on the /ws endpoint
    When the client subscribes with {"type":"subscribe","channel":"telemetry"}
    Then a telemetry_update arrives
    And every reading of the last telemetry_update has a value, a unit and an ISO 8601 timestamp

  @valtronics.channels.system_status_update @must @server
  Scenario: A system subscription receives system_status_update messages of the documented shape
    Spec: "System Status Channel ... Message Format: {"type": "system_status_update", "channel": "system", "metrics": {"cpu_usage": 45.2, "memory_usage": 67.8, "disk_usage": 23.1, "active_connections": 15}, "timestamp": "2024-01-01T12:00:00Z"}".
    Given the client is authenticated on the /ws endpoint
    When the client subscribes with {"type":"subscribe","channel":"system"}
    Then a system_status_update arrives
    And the last system_status_update has numeric metrics and an ISO 8601 timestamp

  @valtronics.channels.alert @must @server @needs.data
  Scenario: An alerts subscription receives alert messages of the documented shape
    Spec: "Alerts Channel ... Message Format: {"type": "alert", "channel": "alerts", "alert_id": 123, "device_id": 1, "severity": "critical", "title": "High Temperature Alert", "message": "Temperature exceeds safe threshold", "timestamp": "2024-01-01T12:00:00Z", "metadata": {...}}".
    Given the client is authenticated on the /ws endpoint
    When the client subscribes with {"type":"subscribe","channel":"alerts"}
    Then an alert arrives
    And the last alert has the documented fields and an ISO 8601 timestamp

  @valtronics.channels.device_status_update @must @server @needs.data
  Scenario: A devices subscription receives device_status_update messages of the documented shape
    Spec: "Device Status Channel ... Message Format: {"type": "device_status_update", "channel": "devices", "device_id": 1, "old_status": "online", "new_status": "offline", "timestamp": "2024-01-01T12:00:00Z", "reason": "Connection lost", "metadata": {...}}".
    Given the client is authenticated on the /ws endpoint
    When the client subscribes with {"type":"subscribe","channel":"devices"}
    Then a device_status_update arrives
    And the last device_status_update has the documented fields and an ISO 8601 timestamp

  @valtronics.channels.severity_filter @must @server @needs.data
  Scenario: A severity filter limits alerts to that severity
    Spec: "Alerts Channel ... Subscription Options: severity: Alert severity filter (optional)".
    Given the client is authenticated on the /ws endpoint
    When the client subscribes with {"type":"subscribe","channel":"alerts","filters":{"severity":["warning"]}}
    Then the next 2 alert messages have severity "warning"

  @valtronics.channels.status_types_filter @must @server @needs.data
  Scenario: A status_types filter limits device_status_update to those new statuses
    Spec: "Device Status Channel ... Subscription Options: status_types: Array of status types to monitor".
    Given the client is authenticated on the /ws endpoint
    When the client subscribes with {"type":"subscribe","channel":"devices","filters":{"status_types":["offline"]}}
    Then the next 2 device_status_update messages have new_status "offline"

  @valtronics.channels.subscribe_accepted @must @server
  Scenario Outline: The documented <channel> subscription (<style>) is accepted
    Spec: "Subscription Message {"type": "subscribe", "channel": "channel-name", "device_id": 1, "filters": {"metrics": ["temperature", "humidity"]}}" with each channel's "Example Subscription".
    Given the client is authenticated on the /ws endpoint
    When the client subscribes with <message>
    Then the connection is still open

    Examples:
      | channel   | style                 | message                                                                                                                  |
      | telemetry | document template     | {"type":"subscribe","channel":"telemetry","device_id":1,"filters":{"metrics":["temperature","humidity"]}}                |
      | telemetry | nested filters        | {"type":"subscribe","channel":"telemetry","device_id":1,"filters":{"metrics":["temperature","humidity"],"frequency":"real-time"}} |
      | alerts    | nested filters        | {"type":"subscribe","channel":"alerts","filters":{"severity":["critical","warning"],"device_id":1}}                      |
      | alerts    | spread (JS client)    | {"type":"subscribe","channel":"alerts","severity":["critical","warning"]}                                                 |
      | devices   | nested filters        | {"type":"subscribe","channel":"devices","filters":{"device_id":[1,2,3],"status_types":["online","offline","warning"]}}    |
      | devices   | no filters            | {"type":"subscribe","channel":"devices"}                                                                                  |
      | system    | nested filters        | {"type":"subscribe","channel":"system","filters":{"metrics":["cpu_usage","memory_usage","active_connections"],"frequency":"30s"}} |

  @valtronics.channels.metrics_filter @must @server @needs.data
  Scenario Outline: A metrics filter (<style>) limits telemetry_update to those metrics
    Spec: "Subscription Options: device_id: Specific device ID (optional); metrics: Array of metric names (optional)".
    Given the client is authenticated on the /ws endpoint
    And the client has learned a device id and one of its metrics from a telemetry_update
    When the client subscribes to telemetry for that metric with the filters <style>
    Then the next 3 telemetry_update messages carry only that metric

    Examples:
      | style  |
      | nested |
      | spread |

  @valtronics.channels.device_filter @must @server @needs.data
  Scenario Outline: A device_id (<style>) limits telemetry_update to that device
    Spec: "ws.send(JSON.stringify({type: 'subscribe', channel: 'telemetry', device_id: 1}))".
    Given the client is authenticated on the /ws endpoint
    And the client has learned a device id and one of its metrics from a telemetry_update
    When the client subscribes to telemetry for that device with the filters <style>
    Then the next 3 telemetry_update messages are for that device

    Examples:
      | style  |
      | top    |
      | nested |

  @valtronics.channels.unsubscribe @must @server @needs.data
  Scenario: After unsubscribe, no telemetry_update arrives
    Spec: "Unsubscription Message {"type": "unsubscribe", "channel": "channel-name", "device_id": 1}".
    Given the client is authenticated on the /ws endpoint
    And the client subscribes with {"type":"subscribe","channel":"telemetry"}
    And a telemetry_update arrives
    When the client unsubscribes with {"type":"unsubscribe","channel":"telemetry"}
    And the client subscribes with {"type":"subscribe","channel":"system"}
    Then a system_status_update arrives with no telemetry_update before it

  @valtronics.channels.specialised_telemetry @must @server @needs.data
  Scenario: The telemetry endpoint pushes telemetry_update once authenticated, without a subscribe
    Spec: "Specialized Endpoints: Telemetry Stream: ws://localhost:8000/ws/telemetry".
    When the client connects to the /ws/telemetry endpoint
    And the client authenticates with the configured token
    And the server answers with a successful auth_response
    Then a telemetry_update arrives

  @valtronics.channels.specialised_alerts_devices @must @server @needs.data
  Scenario Outline: The <endpoint> endpoint pushes <push> once authenticated, without a subscribe
    Spec: "Specialized Endpoints: Alert Notifications: ws://localhost:8000/ws/alerts; Device Status: ws://localhost:8000/ws/devices".
    When the client connects to the <endpoint> endpoint
    And the client authenticates with the configured token
    And the server answers with a successful auth_response
    Then <article> <push> arrives

    Examples:
      | endpoint    | article | push                 |
      | /ws/alerts  | an      | alert                |
      | /ws/devices | a       | device_status_update |

  @valtronics.channels.specialised_system @must @server
  Scenario: The system endpoint pushes system_status_update once authenticated, without a subscribe
    Spec: "Specialized Endpoints: System Status: ws://localhost:8000/ws/system".
    When the client connects to the /ws/system endpoint
    And the client authenticates with the configured token
    And the server answers with a successful auth_response
    Then a system_status_update arrives

  @valtronics.channels.no_push_before_subscribe @should @server
  Scenario: The primary endpoint pushes nothing before a subscribe
    Spec: "Subscribe to specific data channels" (pushes follow subscriptions).
    Given the client is authenticated on the /ws endpoint
    When the client sends the JSON text {"type":"ping"}
    Then the server replies with a pong and nothing before it

  @valtronics.channels.pong @should @server
  Scenario: A ping is answered with a pong
    Spec: "case 'pong': // Handle keep-alive response".
    Given the client is authenticated on the /ws endpoint
    When the client sends the JSON text {"type":"ping","timestamp":"2024-01-01T12:00:00Z"}
    Then the server replies with a pong

  @valtronics.channels.pong_timestamp @may @server
  Scenario: A pong echoes the ping's timestamp
    Spec: "Ping Message (Keep-alive) {"type": "ping", "timestamp": "2024-01-01T12:00:00Z"}" (the document does not show the pong).
    Given the client is authenticated on the /ws endpoint
    When the client sends the JSON text {"type":"ping","timestamp":"2024-01-01T12:00:00Z"}
    Then the server replies with a pong echoing the timestamp "2024-01-01T12:00:00Z"

  @valtronics.channels.subscribed_ack @may @server
  Scenario: A subscribe is acknowledged with "subscribed"
    Spec: "Subscribe to specific data channels" (the document defines no acknowledgement).
    Given the client is authenticated on the /ws endpoint
    When the client sends the JSON text {"type":"subscribe","channel":"alerts"}
    Then the server replies with a "subscribed" message for channel "alerts"

  @valtronics.channels.unsubscribed_ack @may @server
  Scenario: An unsubscribe is acknowledged with "unsubscribed"
    Spec: "Unsubscription Message" (the document defines no acknowledgement).
    Given the client is authenticated on the /ws endpoint
    And the client subscribes with {"type":"subscribe","channel":"alerts"}
    When the client sends the JSON text {"type":"unsubscribe","channel":"alerts"}
    Then the server replies with a "unsubscribed" message for channel "alerts"
