Feature: Mosaic authentication
  "If the controller does have security enabled then: You must obtain a bearer token."
  The token travels in every message as "token"; a message without a valid one is not served.

  @mosaic.auth.accepted @must @server
  Scenario: A request carrying the configured token is answered
    Spec: "The token attribute must be added to the transmitted JSON with the bearer token received from authenticating a user."
    Given a client connected to the query endpoint
    When the client requests "system" with id 1 and the configured token
    Then the reply to "system" with id 1 carries its data

  @mosaic.auth.status_level @must @server @needs.security @needs.status_token
  Scenario: A token of a user with the Status access level is accepted
    Spec: "The user with which the token was requested must have at least the status access level."
    Given a client connected to the query endpoint
    When the client requests "system" with id 1 and the Status-level token
    Then the reply to "system" with id 1 carries its data

  @mosaic.auth.token_required @must @server @needs.security
  Scenario: A request without a token is not answered with data
    Spec: "If the controller does have security enabled then: You must obtain a bearer token".
    Given a client connected to the query endpoint
    When the client requests "system" with id 1 and no token
    Then the request with id 1 is not answered with data

  @mosaic.auth.invalid_token @must @server @needs.security
  Scenario Outline: A request with an invalid token (<kind>) is not answered with data
    Spec: "The token attribute must be added to the transmitted JSON with the bearer token received from authenticating a user."
    Given a client connected to the query endpoint
    When the client requests "system" with id 1 and the token "<token>"
    Then the request with id 1 is not answered with data

    Examples:
      | kind             | token                                                                                      |
      | not a JWT        | not-a-jwt                                                                                  |
      | forged signature | eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZW1vIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl |

  @mosaic.auth.expired_token @must @server @needs.security @needs.expired_token
  Scenario: A request with an expired token is not answered with data
    Spec: "Tokens can be refreshed through the keep alive message" (tokens live 5 minutes; an expired one is no longer valid).
    Given a client connected to the query endpoint
    When the client requests "system" with id 1 and the expired token
    Then the request with id 1 is not answered with data

  @mosaic.auth.error_reply @may @server @needs.security
  Scenario Outline: A request refused for its token (<kind>) gets the error reply "<code>"
    Spec: The document defines no error reply; the simulator answers {"request", "id", "error", "message"}.
    Given a client connected to the query endpoint
    When the client requests "system" with id 1 and the token "<token>"
    Then the server answers with the error reply "<code>"

    Examples:
      | kind      | token     | code          |
      | not a JWT | not-a-jwt | token_invalid |
      | empty     |           | token_missing |

  @mosaic.auth.missing_error_reply @may @server @needs.security
  Scenario: A request without a token gets the error reply "token_missing"
    Spec: The document defines no error reply; the simulator answers {"request", "id", "error", "message"}.
    Given a client connected to the query endpoint
    When the client requests "system" with id 1 and no token
    Then the server answers with the error reply "token_missing"

  @mosaic.auth.no_security @must @server @needs.no_security
  Scenario: Without controller security a request needs no token
    Spec: "If the controller does not have security enabled, the WebSocket can be accessed freely without a token."
    Given a client connected to the query endpoint
    When the client requests "system" with id 1 and no token
    Then the reply to "system" with id 1 carries its data

  @mosaic.auth.http_token @should @server @needs.login
  Scenario: POST /authenticate with valid credentials returns a token the query endpoint accepts
    Spec: "For a third party system, you can retrieve a token by requesting one from the Authentication endpoint - see HTTP Authentication."
    When the client authenticates with the configured credentials
    Then the answer is HTTP 200 with a token
    And that token is accepted on the query endpoint

  @mosaic.auth.http_bad_credentials @should @server @needs.login
  Scenario: POST /authenticate with a wrong password is refused with 401
    Spec: "For a third party system, you can retrieve a token by requesting one from the Authentication endpoint - see HTTP Authentication."
    When the client authenticates with a wrong password
    Then the answer is HTTP 401
