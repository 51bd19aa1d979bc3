Feature: WebMACS authentication
  "All WebSocket endpoints require a valid JWT token passed as a query parameter."
  Refused connections are accepted, then closed with 1008 and a documented reason.

  @webmacs.auth.accepted @must @server
  Scenario Outline: A valid token opens the <endpoint> endpoint
    Spec: "All WebSocket endpoints require a valid JWT token passed as a query parameter: ws://your-host/ws/controller/telemetry?token=<jwt>".
    When the client connects to the <endpoint> endpoint with the configured token
    Then the connection stays open

    Examples:
      | endpoint   |
      | stream     |
      | controller |

  @webmacs.auth.required @must @server
  Scenario Outline: No token on the <endpoint> endpoint closes with 1008 "Authentication required"
    Spec: "Connections without a valid token are immediately closed with code 1008 (Policy Violation) and one of: "Authentication required" — no token provided".
    When the client connects to the <endpoint> endpoint without a token
    Then the server closes the connection with code 1008 and reason "Authentication required"

    Examples:
      | endpoint   |
      | stream     |
      | controller |

  @webmacs.auth.invalid_token @must @server
  Scenario Outline: An undecodable token (<kind>) on the <endpoint> endpoint closes with 1008 "Invalid or expired token"
    Spec: "Invalid or expired token" — JWT decoding failed.
    When the client connects to the <endpoint> endpoint with the token "<token>"
    Then the server closes the connection with code 1008 and reason "Invalid or expired token"

    Examples:
      | endpoint   | kind             | token                                                                                      |
      | stream     | not a JWT        | not-a-jwt                                                                                  |
      | controller | not a JWT        | not-a-jwt                                                                                  |
      | stream     | forged signature | eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZW1vIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl |
      | controller | forged signature | eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZW1vIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl |

  @webmacs.auth.expired_token @must @server @needs.expired_token
  Scenario Outline: An expired token on the <endpoint> endpoint closes with 1008 "Invalid or expired token"
    Spec: "Connections without a valid token are immediately closed with code 1008 (Policy Violation) and one of: ... "Invalid or expired token"".
    When the client connects to the <endpoint> endpoint with the expired token
    Then the server closes the connection with code 1008 and reason "Invalid or expired token"

    Examples:
      | endpoint   |
      | stream     |
      | controller |

  @webmacs.auth.revoked @must @server @needs.login
  Scenario: A token revoked by logout closes with 1008 "Token has been revoked"
    Spec: "Token has been revoked" — token was blacklisted (user logged out).
    Given a fresh token from the login endpoint that was then logged out
    When the client connects to the stream endpoint with that token
    Then the server closes the connection with code 1008 and reason "Token has been revoked"

  @webmacs.auth.user_not_found @must @server @needs.deleted_user_token
  Scenario: A token of a deleted user closes with 1008 "User not found"
    Spec: "User not found" — user deleted after token issued.
    When the client connects to the stream endpoint with the deleted user's token
    Then the server closes the connection with code 1008 and reason "User not found"
