package chromium

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/coder/websocket"
)

// session is one DevTools connection to a page target. Calls are made one
// at a time: call reads messages until its response arrives and records
// the events it reads on the way, so no goroutine reads the socket.
type session struct {
	conn *websocket.Conn
	url  string
	next int
	page Page
	// seen are the event methods read so far, for waitEvent.
	seen map[string]int
}

// message is a DevTools message: a response (ID set) or an event.
type message struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func dial(ctx context.Context, url string) (*session, error) {
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("chromium: devtools %s: %w", url, err)
	}
	// Screenshots and DOMs arrive as single messages of many megabytes.
	conn.SetReadLimit(256 << 20)
	return &session{conn: conn, url: url, seen: map[string]int{}}, nil
}

func (s *session) close() { s.conn.CloseNow() }

// call sends method with params and decodes its result into result (when
// not nil).
func (s *session) call(ctx context.Context, method string, params, result any) error {
	s.next++
	id := s.next
	req, err := json.Marshal(struct {
		ID     int    `json:"id"`
		Method string `json:"method"`
		Params any    `json:"params,omitempty"`
	}{id, method, params})
	if err != nil {
		return err
	}
	if err := s.conn.Write(ctx, websocket.MessageText, req); err != nil {
		return fmt.Errorf("chromium: %s: %w", method, err)
	}
	for {
		m, err := s.read(ctx)
		if err != nil {
			return fmt.Errorf("chromium: %s: %w", method, err)
		}
		if m.ID != id {
			continue
		}
		if m.Error != nil {
			return fmt.Errorf("chromium: %s: error %d: %s", method, m.Error.Code, m.Error.Message)
		}
		if result == nil {
			return nil
		}
		if err := json.Unmarshal(m.Result, result); err != nil {
			return fmt.Errorf("chromium: %s: %w", method, err)
		}
		return nil
	}
}

// waitEvent reads messages until the event method has arrived.
func (s *session) waitEvent(ctx context.Context, method string) error {
	for s.seen[method] == 0 {
		if _, err := s.read(ctx); err != nil {
			return fmt.Errorf("chromium: waiting for %s: %w", method, err)
		}
	}
	return nil
}

// read reads one message and records it when it is an event.
func (s *session) read(ctx context.Context) (message, error) {
	var m message
	_, data, err := s.conn.Read(ctx)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("devtools %s: %w", s.url, err)
	}
	if m.Method != "" {
		s.seen[m.Method]++
		s.record(m)
	}
	return m, nil
}

// record keeps the events Page reports.
func (s *session) record(m message) {
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		json.Unmarshal(m.Params, &p)
		var parts []string
		for _, a := range p.Args {
			if a.Value != nil {
				parts = append(parts, fmt.Sprint(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		level := p.Type
		if level == "assert" {
			level = "error"
		}
		s.page.Console = append(s.page.Console, Message{Source: "console", Level: level, Text: strings.Join(parts, " ")})
	case "Runtime.exceptionThrown":
		var p struct {
			Details struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(m.Params, &p)
		text := strings.TrimSpace(p.Details.Text + " " + p.Details.Exception.Description)
		s.page.Console = append(s.page.Console, Message{Source: "exception", Level: "error", Text: text})
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level string `json:"level"`
				Text  string `json:"text"`
				URL   string `json:"url"`
			} `json:"entry"`
		}
		json.Unmarshal(m.Params, &p)
		text := p.Entry.Text
		if p.Entry.URL != "" {
			text += " (" + p.Entry.URL + ")"
		}
		s.page.Console = append(s.page.Console, Message{Source: "log", Level: p.Entry.Level, Text: text})
	case "Network.requestWillBeSent":
		var p struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		json.Unmarshal(m.Params, &p)
		s.page.Requests = append(s.page.Requests, p.Request.URL)
	}
}

// load navigates to url and collects the page.
func (s *session) load(ctx context.Context, cfg Config, url string) (*Page, error) {
	for _, domain := range []string{"Page", "Runtime", "Log", "Network"} {
		if err := s.call(ctx, domain+".enable", nil, nil); err != nil {
			return nil, err
		}
	}
	metrics := map[string]any{"width": cfg.Width, "height": cfg.Height, "deviceScaleFactor": 1, "mobile": false}
	if err := s.call(ctx, "Emulation.setDeviceMetricsOverride", metrics, nil); err != nil {
		return nil, err
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := s.call(ctx, "Page.navigate", map[string]string{"url": url}, &nav); err != nil {
		return nil, err
	}
	if nav.ErrorText != "" {
		return nil, fmt.Errorf("chromium: %s: %s", url, nav.ErrorText)
	}
	if err := s.waitEvent(ctx, "Page.loadEventFired"); err != nil {
		return nil, err
	}
	var dom struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	if err := s.call(ctx, "Runtime.evaluate", map[string]any{"expression": "document.documentElement.outerHTML", "returnByValue": true}, &dom); err != nil {
		return nil, err
	}
	s.page.DOM = dom.Result.Value
	shot, err := s.screenshot(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.page.Screenshot = shot
	if cfg.PDF {
		var pdf struct {
			Data string `json:"data"`
		}
		// A4 in inches; the page's @media print rules apply.
		params := map[string]any{"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": true}
		if err := s.call(ctx, "Page.printToPDF", params, &pdf); err != nil {
			return nil, err
		}
		if s.page.PDF, err = base64.StdEncoding.DecodeString(pdf.Data); err != nil {
			return nil, fmt.Errorf("chromium: pdf: %w", err)
		}
	}
	page := s.page
	return &page, nil
}

// screenshot captures the whole page, up to cfg.MaxShotHeight.
func (s *session) screenshot(ctx context.Context, cfg Config) ([]byte, error) {
	var lm struct {
		Content struct {
			Width  float64 `json:"width"`
			Height float64 `json:"height"`
		} `json:"cssContentSize"`
	}
	if err := s.call(ctx, "Page.getLayoutMetrics", nil, &lm); err != nil {
		return nil, err
	}
	w, h := max(lm.Content.Width, float64(cfg.Width)), min(max(lm.Content.Height, 1), float64(cfg.MaxShotHeight))
	var shot struct {
		Data string `json:"data"`
	}
	params := map[string]any{
		"format":                "png",
		"captureBeyondViewport": true,
		"clip":                  map[string]any{"x": 0, "y": 0, "width": w, "height": h, "scale": 1},
	}
	if err := s.call(ctx, "Page.captureScreenshot", params, &shot); err != nil {
		return nil, err
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return nil, fmt.Errorf("chromium: screenshot: %w", err)
	}
	if len(png) == 0 {
		return nil, errors.New("chromium: screenshot: empty")
	}
	return png, nil
}
