Feature: Mosaic connection limit
  "MSC Controllers support a maximum of 8 simultaneous HTTP connections. MSC X and Atlas
  controllers support a maximum of 16 connections. Using a WebSocket maintains use of one of
  those connections."

  @mosaic.limit.connections @must @server @needs.max_connections
  Scenario: Above the controller's cap neither a new WebSocket nor an HTTP request is served
    Spec: "once the maximum is reached the controller will not accept further HTTP connections. This includes connections to the default web interface".
    Given as many clients connected to the query endpoint as the controller allows
    Then every one of them answers a request
    And one more connection is refused
    And an HTTP request to the controller is refused
