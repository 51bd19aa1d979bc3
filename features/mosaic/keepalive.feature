Feature: Mosaic keepalive
  "A message should be sent every ~10 seconds to keep the connection alive. A keepalive
  message may be an empty JSON object."

  @mosaic.keepalive.session_key @must @server @needs.security
  Scenario: A keepalive with a valid token is answered with a non-zero binary session key
    Spec: "If the response binary object is non-zero, it is a session key and indicates the session is still valid."
    Given a client connected to the query endpoint
    When the client sends a keepalive with the configured token
    Then the keepalive reply is a non-zero binary session key

  @mosaic.keepalive.key_shape @should @server @needs.security
  Scenario: The session key is 16 bytes and stays the same across keepalives and connections
    Spec: "If the response binary object is non-zero, it is a session key" (16 bytes, the same until the controller restarts).
    Given a client connected to the query endpoint
    When the client sends a keepalive with the configured token
    Then the keepalive reply is a 16-byte session key
    And a keepalive on a second connection is answered with the same session key

  @mosaic.keepalive.timed_out @must @server @needs.security @needs.expired_token
  Scenario: A keepalive with an expired token is answered with a binary object of all zeros
    Spec: "If the response contains a binary object of all zeros, that indicates that the session has timed out."
    Given a client connected to the query endpoint
    When the client sends a keepalive with the expired token
    Then the keepalive reply is a binary object of all zeros

  @mosaic.keepalive.invalid_token @may @server @needs.security
  Scenario Outline: A keepalive with an invalid token (<kind>) is answered with all zeros
    Spec: "If the response contains a binary object of all zeros, that indicates that the session has timed out. You should close the WebSocket and re-authenticate" (the document is silent on invalid tokens; the simulator answers them with all zeros).
    Given a client connected to the query endpoint
    When the client sends a keepalive with the token "<token>"
    Then the keepalive reply is a binary object of all zeros

    Examples:
      | kind             | token                                                                                      |
      | not a JWT        | not-a-jwt                                                                                  |
      | forged signature | eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZW1vIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl |

  @mosaic.keepalive.empty_frame @should @server @needs.security
  Scenario: An empty text frame within a live session is accepted as a keepalive
    Spec: "A keepalive message may be an empty JSON object." (one real client sends an empty text frame)
    Given a client connected to the query endpoint
    When the client sends a keepalive with the configured token
    And the client reads the keepalive reply
    And the client sends an empty text frame
    Then the keepalive reply is a non-zero binary session key

  @mosaic.keepalive.empty_object @must @server @needs.no_security
  Scenario: Without controller security a keepalive {} is answered with {}
    Spec: "If controller security is not enabled the response will contain an empty JSON object."
    Given a client connected to the query endpoint
    When the client sends an empty keepalive object
    Then the keepalive reply is the text {}

  @mosaic.keepalive.empty_frame_open @should @server @needs.no_security
  Scenario: Without controller security an empty text frame is answered with {}
    Spec: "If controller security is not enabled the response will contain an empty JSON object." (one real client sends an empty text frame)
    Given a client connected to the query endpoint
    When the client sends an empty text frame
    Then the keepalive reply is the text {}
