Feature: Robot authentication
  "To connect to the WebSocket, use the WebSocket URL and include the JWT token in the
  initial request as a query parameter." A missing or invalid token is refused: HTTP 401
  before the upgrade, or close 1008 after it (either is conforming).

  @robot.auth.accepted @must @server
  Scenario: A valid token in ?token= opens the WebSocket
    Spec: "To connect to the WebSocket, use the WebSocket URL and include the JWT token in the initial request as a query parameter."
    When the client connects with the configured token
    Then the connection stays open and serves a publish

  @robot.auth.required @must @server
  Scenario: No token is refused
    Spec: "include the JWT token in the initial request as a query parameter" (a missing token is refused: HTTP 401 before the upgrade, or close 1008 after it).
    When the client connects without a token
    Then the connection is refused with HTTP 401 or close 1008

  @robot.auth.invalid_token @must @server
  Scenario Outline: An invalid token (<kind>) is refused
    Spec: "ws_url = f"wss://<ROBOT_IP>/wss?token={jwt_token}"" (an invalid token is refused: HTTP 401 before the upgrade, or close 1008 after it).
    When the client connects with the token "<token>"
    Then the connection is refused with HTTP 401 or close 1008

    Examples:
      | kind             | token                                                                                      |
      | not a JWT        | not-a-jwt                                                                                  |
      | empty            |                                                                                            |
      | forged signature | eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZW1vIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl |

  @robot.auth.expired_token @must @server @needs.expired_token
  Scenario: An expired token is refused
    Spec: "include the JWT token in the initial request as a query parameter" (an expired JWT is not valid: HTTP 401 before the upgrade, or close 1008 after it).
    When the client connects with the expired token
    Then the connection is refused with HTTP 401 or close 1008

  @robot.auth.api_key_token @should @server @needs.api_key
  Scenario: GET /api/v1/auth/ with X-API-Key gives a token that opens the WebSocket
    Spec: The official client "gets its JWT from GET /api/v1/auth/ with an X-API-Key header → {"token": ...}".
    Given a token from the token endpoint for the configured API key
    When the client connects with that token
    Then the connection stays open and serves a publish

  @robot.auth.api_key_refused @may @server @needs.api_key
  Scenario: A wrong API key gets HTTP 401 from the token endpoint
    Spec: "GET /api/v1/auth/ with an X-API-Key header" (a wrong key: HTTP 401 {"detail"}, the simulator's choice).
    When the token endpoint is asked with the API key "not-a-key"
    Then the token endpoint answers HTTP 401
