Feature: Molecule client conformance
  Judge mode (`telewire serve molecule --judge`) watches each connected client and judges it
  against what molecule.txt asks of clients. Each scenario runs a well-behaved scripted
  client, then a misbehaving one, against a fresh judged simulator.

  @molecule.client.handshake @must @client
  Scenario: The first frame is a binary handshake in the documented format
    Spec: "Immediately after the connection opens, send a binary handshake packet." [0x01][0x02][idLen Hi][idLen Lo][gatewayId bytes][tokLen Hi][tokLen Lo][token bytes][0x01][0x04]
    Given a judged molecule simulator
    When judged client "good" connects to "/ws"
    And judged client "good" sends the Molecule handshake
    And judged client "good" receives the undocumented frame
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "molecule.client.handshake"
    Given a judged molecule simulator
    When judged client "bad" connects to "/ws"
    And judged client "bad" sends '{"gateway":"demo-gateway","token":"{token}"}'
    And judged client "bad" is closed by the server
    Then the judge reports 1 connection
    And judged connection 0 fails "molecule.client.handshake" observing "text frame"

  @molecule.client.reauthenticate @should @client
  Scenario: After its token was refused the client re-authenticates before retrying
    Spec: "| Auth response success = 0 | Re-authenticate and retry |" and "| ws.onclose with code 1008 | Token rejected- re-authenticate |"
    Given a judged molecule simulator
    When judged client "good" connects to "/ws"
    And judged client "good" sends the Molecule handshake with the token "expired"
    And judged client "good" is closed by the server
    And judged client "good" waits 500 ms
    And judged client "good" connects to "/ws"
    And judged client "good" sends the Molecule handshake
    And judged client "good" closes with code 1000
    Then the judge reports 2 connections
    And judged connection 1 passes "molecule.client.reauthenticate"
    Given a judged molecule simulator
    When judged client "bad" connects to "/ws"
    And judged client "bad" sends the Molecule handshake with the token "expired"
    And judged client "bad" is closed by the server
    And judged client "bad" waits 500 ms
    And judged client "bad" connects to "/ws"
    And judged client "bad" sends the Molecule handshake with the token "expired"
    And judged client "bad" is closed by the server
    Then the judge reports 2 connections
    And judged connection 1 fails "molecule.client.reauthenticate" observing "refused on the previous connection"

  @molecule.client.unknown-type @must @client
  Scenario: A frame of an undocumented type is inspected, never rejected
    Spec: "| other | Unknown- inspect raw bytes |"
    Given a judged molecule simulator
    When judged client "good" connects to "/ws"
    And judged client "good" sends the Molecule handshake
    And judged client "good" receives the undocumented frame
    And judged client "good" sends the binary frame "01 00 73 74 61 74 75 73"
    And judged client "good" receives a binary frame of type 1
    And judged client "good" closes with code 1000
    Then the judge reports 1 connection
    And judged connection 0 passes "molecule.client.unknown-type"
    Given a judged molecule simulator
    When judged client "bad" connects to "/ws"
    And judged client "bad" sends the Molecule handshake
    And judged client "bad" receives the undocumented frame
    And judged client "bad" closes with code 1003
    Then the judge reports 1 connection
    And judged connection 0 fails "molecule.client.unknown-type" observing "closed with 1003"

  @molecule.client.reconnect-backoff @should @client
  Scenario: After a refused or lost connection the client reconnects with a growing delay
    Spec: "Reconnection with backoff" const delay = Math.min(1000 * 2 ** attempt, 30000); // cap at 30s
    Given a judged molecule simulator
    When judged client "good" connects to "/ws"
    And judged client "good" sends the Molecule handshake with the token "expired"
    And judged client "good" is closed by the server
    And judged client "good" waits 500 ms
    And judged client "good" connects to "/ws"
    And judged client "good" sends the Molecule handshake with the token "expired"
    And judged client "good" is closed by the server
    And judged client "good" waits 1000 ms
    And judged client "good" connects to "/ws"
    And judged client "good" sends the Molecule handshake
    And judged client "good" closes with code 1000
    Then the judge reports 3 connections
    And judged connection 1 passes "molecule.client.reconnect-backoff"
    And judged connection 2 passes "molecule.client.reconnect-backoff"
    Given a judged molecule simulator
    When judged client "bad" connects to "/ws"
    And judged client "bad" sends the Molecule handshake with the token "expired"
    And judged client "bad" is closed by the server
    And judged client "bad" connects to "/ws"
    And judged client "bad" sends the Molecule handshake with the token "expired"
    And judged client "bad" is closed by the server
    Then the judge reports 2 connections
    And judged connection 1 fails "molecule.client.reconnect-backoff" observing "minimum"
