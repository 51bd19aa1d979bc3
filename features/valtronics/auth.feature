Feature: Valtronics authentication
  "After connection, authenticate with JWT token": the first message is
  {"type":"auth","token":"..."}, answered by an auth_response.

  @valtronics.auth.accepted @must @server
  Scenario Outline: A valid token is accepted on the <endpoint> endpoint
    Spec: "After connection, authenticate with JWT token: ws.send(JSON.stringify({type: 'auth', token: 'your-jwt-token'}))" and the client checks data.get("type") == "auth_response" and data.get("success").
    When the client connects to the <endpoint> endpoint
    And the client authenticates with the configured token
    Then the server answers with a successful auth_response

    Examples:
      | endpoint      |
      | /ws           |
      | /ws/telemetry |
      | /ws/alerts    |
      | /ws/system    |
      | /ws/devices   |

  @valtronics.auth.invalid_token @must @server
  Scenario Outline: An invalid token (<kind>) gets auth_response success false, error "invalid_token"
    Spec: "if (!data.success) { console.error('Authentication failed:', data.message); if (data.error === 'invalid_token') { refreshToken(); } }".
    When the client connects to the /ws endpoint
    And the client authenticates with the token "<token>"
    Then the server answers with a failed auth_response with error "invalid_token"

    Examples:
      | kind             | token                                                                                      |
      | not a JWT        | not-a-jwt                                                                                  |
      | empty            |                                                                                            |
      | forged signature | eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZW1vIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl |

  @valtronics.auth.expired_token @must @server @needs.expired_token
  Scenario: An expired token gets auth_response success false, error "invalid_token"
    Spec: "Ensure JWT token is not expired" and "Always validate JWT tokens before allowing connections".
    When the client connects to the /ws endpoint
    And the client authenticates with the expired token
    Then the server answers with a failed auth_response with error "invalid_token"

  @valtronics.auth.required @must @server
  Scenario Outline: A <type> before a successful auth is refused
    Spec: "Always validate JWT tokens before allowing connections"; any message other than auth or ping before a successful auth is refused.
    When the client connects to the /ws endpoint
    And the client sends the JSON text <message>
    Then the server refuses the message

    Examples:
      | type        | message                                              |
      | subscribe   | {"type":"subscribe","channel":"telemetry"}           |
      | unsubscribe | {"type":"unsubscribe","channel":"telemetry"}         |

  @valtronics.auth.required_after_refusal @must @server
  Scenario: A refused token does not authenticate the connection
    Spec: "Always validate JWT tokens before allowing connections".
    When the client connects to the /ws endpoint
    And the client authenticates with the token "not-a-jwt"
    And the server answers with a failed auth_response with error "invalid_token"
    And the client sends the JSON text {"type":"subscribe","channel":"system"}
    Then the server refuses the message

  @valtronics.auth.ping_before_auth @should @server
  Scenario: A ping before auth is answered with a pong
    Spec: "Ping Message (Keep-alive) {"type": "ping", "timestamp": "2024-01-01T12:00:00Z"}" and the clients handle case 'pong'.
    When the client connects to the /ws endpoint
    And the client sends the JSON text {"type":"ping","timestamp":"2024-01-01T12:00:00Z"}
    Then the server replies with a pong

  @valtronics.auth.retry @may @server
  Scenario: After a refused token, a valid one is accepted on the same connection
    Spec: "Implement token refresh mechanisms" (the document is silent on whether a refused auth closes the connection).
    When the client connects to the /ws endpoint
    And the client authenticates with the token "not-a-jwt"
    And the server answers with a failed auth_response with error "invalid_token"
    And the client authenticates with the configured token
    Then the server answers with a successful auth_response

  @valtronics.auth.already_authenticated @may @server
  Scenario: A second auth on an authenticated connection gets error "already_authenticated"
    Spec: "Validate all incoming message structures" (the document defines no reply to a second auth).
    Given the client is authenticated on the /ws endpoint
    When the client authenticates with the configured token
    Then the server replies with an error "already_authenticated"
