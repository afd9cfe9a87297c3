/** Every numeric query parameter of the API, on the route that reads it (issue 19: none may answer 5xx). */
export const numericQueryParams = (hookId: string): [path: string, param: string][] => [
  ["/webhooks/", "page"],
  ["/webhooks/", "limit"],
  [`/webhooks/${hookId}/deliveries/`, "page"],
  [`/webhooks/${hookId}/deliveries/`, "limit"],
  ["/events/", "limit"],
  ["/events/", "since"],
  ["/events/", "until"],
  ["/deliveries/", "limit"],
  ["/deliveries/", "since"],
  ["/deliveries/", "until"],
  ["/stats/", "bucket"],
  ["/stats/", "since"],
  ["/stats/", "until"],
];
