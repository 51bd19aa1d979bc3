Feature: Molecule handshake and auth response
  The client opens the WebSocket, sends one binary handshake
  [0x01][0x02][idLen][gatewayId][tokLen][token][0x01][0x04] and the server answers
  with the 3-byte auth response [2][status][0x04].

  @molecule.handshake.accepted @must @server
  Scenario: A valid handshake is answered with auth status 1
    Spec: "The server responds with a 3-byte binary frame to confirm the handshake result: [requestType][status][0x04]" and "status | 1 | Authenticated successfully".
    Given a connection to the Molecule endpoint
    When the client sends a handshake for the configured gateway with the configured token
    Then the first frame is the auth response 02 01 04

  @molecule.auth_response.shape @must @server
  Scenario: The auth response is the first frame and exactly 3 bytes
    Spec: "Auth response- 3 bytes ending in 0x04" (clients detect it by "data.length === 3 && data[2] === 0x04" or as "first message after handshake").
    Given a connection to the Molecule endpoint
    When the client sends a handshake for the configured gateway with the configured token
    Then the first frame is binary, 3 bytes long, with request type 2 and end byte 0x04

  @molecule.auth.token_rejected @must @server
  Scenario Outline: A rejected token (<kind>) gets auth status 0 or close 1008
    Spec: "status | 0 | Authentication failed" and "ws.onclose with code 1008 | Token rejected- re-authenticate".
    Given a connection to the Molecule endpoint
    When the client sends a handshake for the configured gateway with the token "<token>"
    Then the server refuses the handshake with auth status 0 or close 1008

    Examples:
      | kind              | token                                                                                      |
      | not a JWT         | not-a-jwt                                                                                  |
      | empty             |                                                                                            |
      | forged signature  | eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZW1vIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl |

  @molecule.auth.unknown_gateway @must @server
  Scenario: A handshake for an unknown gateway gets auth status 0 or close 1008
    Spec: "Auth failed- check gateway ID and token".
    Given a connection to the Molecule endpoint
    When the client sends a handshake for the gateway "no-such-gateway-0000" with the configured token
    Then the server refuses the handshake with auth status 0 or close 1008

  @molecule.handshake.malformed @should @server
  Scenario Outline: A handshake that does not parse (<defect>) gets auth status 0
    Spec: "Length fields are u16 big-endian; the sentinel 0x01 0x04 is mandatory. A handshake that does not parse gets auth response status 0."
    Given a connection to the Molecule endpoint
    When the client sends a handshake <defect>
    Then the first frame is the auth response 02 00 04

    Examples:
      | defect                              |
      | without the sentinel                |
      | with the sentinel 01 05             |
      | with the marker 01 03               |
      | with an idLen past the end          |
      | with trailing bytes after sentinel  |
      | truncated inside the token          |
      | of zero bytes                       |

  @molecule.handshake.binary_only @should @server
  Scenario: A text frame instead of the binary handshake is refused
    Spec: "ws.binaryType = 'arraybuffer'; // required- all frames are binary".
    Given a connection to the Molecule endpoint
    When the client sends the text frame "hello"
    Then the server refuses the handshake with auth status 0 or a close

  @molecule.handshake.too_large @must @server
  Scenario: An oversized handshake is closed with 1009
    Spec: "ws.onclose with code 1009 | Handshake too large- contact support" (the simulator's documented cap is 8 KiB).
    Given a connection to the Molecule endpoint
    When the client sends a handshake for the configured gateway with a token of 60000 bytes
    Then the server closes the connection with code 1009

  @molecule.auth.expired_token @must @server @needs.expired_token
  Scenario: An expired token gets auth status 0 or close 1008
    Spec: "Tokens expire after a fixed period. Always check expiresAt before connecting." and "ws.onclose with code 1008 | Token rejected- re-authenticate".
    Given a connection to the Molecule endpoint
    When the client sends a handshake for the configured gateway with the expired token
    Then the server refuses the handshake with auth status 0 or close 1008

  @molecule.session.text_frame @may @server
  Scenario: A text frame after authentication is closed with 1003
    Spec: "required- all frames are binary" (the document does not say what a server does with a text frame; the simulator closes with 1003).
    Given an authenticated Molecule session
    When the client sends the text frame "hello"
    Then the server closes the connection with code 1003

  @molecule.session.repeated_handshake @may @server
  Scenario: A second handshake after authentication is closed with 1002
    Spec: "Immediately after the connection opens, send a binary handshake packet" (once; the simulator closes a second one with 1002).
    Given an authenticated Molecule session
    When the client sends a handshake for the configured gateway with the configured token
    Then the server closes the connection with code 1002
