Feature: Molecule data frames
  After a successful auth response the server forwards the gateway's data frames
  [messageType][reserved][UTF-8 payload][optional 0x00].

  @molecule.frames.binary @must @server @needs.data
  Scenario: Every frame the server sends is binary
    Spec: "ws.binaryType = 'arraybuffer'; // required- all frames are binary".
    Given an authenticated Molecule session
    When the client waits for 2 data frames
    Then every frame the server sent is binary

  @molecule.frames.shape @must @server @needs.data
  Scenario: Data frames carry a type, a reserved byte and a UTF-8 payload
    Spec: "byte 0 | Message type", "byte 1 | Reserved", "byte 2+ | UTF-8 payload (may have a trailing 0x00 null terminator)".
    Given an authenticated Molecule session
    When the client waits for 2 data frames
    Then every data frame has a 2-byte header and a UTF-8 payload

  @molecule.telemetry.shape @must @server @needs.data
  Scenario: Telemetry payloads are JSON arrays of key and string val
    Spec: "The payload is a JSON array of key-value items" with "key | Unique identifier", "val | Current value as a string".
    Given an authenticated Molecule session
    When the client waits for a telemetry frame
    Then every telemetry payload is a JSON array of items with a string key and a string val

  @molecule.telemetry.labels @should @server @needs.data
  Scenario: The first telemetry item of each key carries its label
    Spec: "lbl is only included periodically- not on every frame ... Always cache it the first time you see it for a given key".
    Given an authenticated Molecule session
    When the client waits for a telemetry frame
    Then every key in the first telemetry frame carries a lbl

  @molecule.command.response @may @server @needs.data
  Scenario: A command frame is answered by a command response
    Spec: "1 | Command response- reply to a command you sent" (the command frame [1][0][UTF-8 command] is not documented).
    Given an authenticated Molecule session
    When the client sends the command "status"
    Then a command response frame of type 1 arrives
