// The dictionaries of the watch-and-check views register here (a list of modules' defaults).
export default [];
