// The watch-and-check views (alerts, violations, audit, overview) register here.
export default [];
