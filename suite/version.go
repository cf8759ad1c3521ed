package suite

// DevVersion is what an Ollama built from source (go install, go run)
// answers on /api/version: no release number was stamped into it.
const DevVersion = "0.0.0"

// VersionText words the Ollama version an endpoint reported for a reader:
// the version itself, or, for a build from source, which reports
// DevVersion, "unknown (development build, reports 0.0.0)" rather than a
// misleading release number.
func (e Endpoint) VersionText() string {
	if e.Version == DevVersion {
		return "unknown (development build, reports " + DevVersion + ")"
	}
	return e.Version
}
