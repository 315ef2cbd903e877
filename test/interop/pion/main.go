// pion-peer: a small pion/webrtc v3 WHIP client and WHIP server (RFC 9725 §4.2, §4.4) for the
// interop suite (test/interop/pion.test.ts). Built by test/interop/pion-peer.ts from Debian's
// golang-github-pion-webrtc.v3-dev in GOPATH mode; prints JSON lines on stdout.
//
//	pion-peer client <whip-url> <seconds> <vp8.ivf> <opus.ogg>  sends Opus, VP8 and data-channel
//	    messages, counts what comes back, DELETEs the session and prints one summary line.
//	pion-peer server  listens on 127.0.0.1, prints {"url":...}; each session echoes RTP and
//	    messages; a "stats" line on stdin prints the counters; EOF on stdin exits.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v3"
	"github.com/pion/webrtc/v3/pkg/media"
	"github.com/pion/webrtc/v3/pkg/media/ivfreader"
	"github.com/pion/webrtc/v3/pkg/media/oggreader"
)

func emit(v interface{}) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// newAPI makes a pion API restricted to IPv4 loopback, without mDNS, with the default codecs
// and interceptors (NACK, RTCP reports, TWCC), as a pion application would have.
func newAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	s := webrtc.SettingEngine{}
	// pion logs to stdout by default (PION_LOG_DEBUG=...); stdout carries our JSON lines.
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = os.Stderr
	s.LoggerFactory = lf
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetIncludeLoopbackCandidate(true)
	s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(s)), nil
}

// message i of the data-channel plan: even ones are text, odd ones binary, 1..60000 bytes.
func message(i int) (bool, []byte) {
	size := 1 + (i*7919)%60000
	if i < 4 {
		size = []int{1, 16384, 16385, 60000}[i]
	}
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(97 + (i*7+j)%26)
	}
	return i%2 == 0, b
}

const messageCount = 20

type counts struct {
	audio, video, messages int64
}

func countTrack(track *webrtc.TrackRemote, c *counts, forward *webrtc.TrackLocalStaticRTP) {
	n := &c.audio
	if track.Kind() == webrtc.RTPCodecTypeVideo {
		n = &c.video
	}
	for {
		p, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		atomic.AddInt64(n, 1)
		if forward != nil {
			_ = forward.WriteRTP(p)
		}
	}
}

func sendIvf(path string, track *webrtc.TrackLocalStaticSample, stop <-chan struct{}, sent *int64) {
	for {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		r, h, err := ivfreader.NewWith(f)
		if err != nil {
			f.Close()
			return
		}
		frameDuration := time.Duration(float64(time.Second) * float64(h.TimebaseNumerator) / float64(h.TimebaseDenominator))
		t := time.NewTicker(frameDuration)
		for {
			frame, _, err := r.ParseNextFrame()
			if err != nil {
				break
			}
			select {
			case <-stop:
				t.Stop()
				f.Close()
				return
			case <-t.C:
			}
			if track.WriteSample(media.Sample{Data: frame, Duration: frameDuration}) == nil {
				atomic.AddInt64(sent, 1)
			}
		}
		t.Stop()
		f.Close()
	}
}

func sendOgg(path string, track *webrtc.TrackLocalStaticSample, stop <-chan struct{}, sent *int64) {
	for {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		r, _, err := oggreader.NewWith(f)
		if err != nil {
			f.Close()
			return
		}
		t := time.NewTicker(20 * time.Millisecond)
		for {
			page, _, err := r.ParseNextPage()
			if err != nil {
				break
			}
			if bytes.HasPrefix(page, []byte("OpusTags")) {
				continue
			}
			select {
			case <-stop:
				t.Stop()
				f.Close()
				return
			case <-t.C:
			}
			if track.WriteSample(media.Sample{Data: page, Duration: 20 * time.Millisecond}) == nil {
				atomic.AddInt64(sent, 1)
			}
		}
		t.Stop()
		f.Close()
	}
}

func waitConnected(pc *webrtc.PeerConnection, timeout time.Duration) error {
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	if pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		return nil
	}
	select {
	case <-connected:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("not connected after %v (state %s)", timeout, pc.ConnectionState())
	}
}

type clientSummary struct {
	OK             bool   `json:"ok"`
	Error          string `json:"error,omitempty"`
	Connected      bool   `json:"connected"`
	AudioSent      int64  `json:"audioSamplesSent"`
	VideoSent      int64  `json:"videoFramesSent"`
	AudioReceived  int64  `json:"audioPacketsReceived"`
	VideoReceived  int64  `json:"videoPacketsReceived"`
	MessagesSent   int    `json:"messagesSent"`
	MessagesIntact int64  `json:"messagesIntact"`
	DeleteStatus   int    `json:"deleteStatus"`
	Offer          string `json:"offer"`
}

// runClient's result is named so that the deferred DELETE's status lands in it.
func runClient(url string, seconds float64, ivf, ogg string) (out clientSummary) {
	api, err := newAPI()
	if err != nil {
		out.Error = err.Error()
		return out
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		out.Error = err.Error()
		return out
	}
	defer pc.Close()
	audio, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pion")
	video, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pion")
	for _, t := range []webrtc.TrackLocal{audio, video} {
		if _, err := pc.AddTrack(t); err != nil {
			out.Error = err.Error()
			return out
		}
	}
	var c counts
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { countTrack(track, &c, nil) })
	dc, err := pc.CreateDataChannel("pion", nil)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	var next int64
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		i := int(atomic.AddInt64(&next, 1) - 1)
		text, want := message(i)
		if m.IsString == text && bytes.Equal(m.Data, want) {
			atomic.AddInt64(&c.messages, 1)
		}
	})
	opened := make(chan struct{})
	dc.OnOpen(func() { close(opened) })

	offer, err := pc.CreateOffer(nil)
	if err == nil {
		gathered := webrtc.GatheringCompletePromise(pc)
		err = pc.SetLocalDescription(offer)
		<-gathered
	}
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Offer = pc.LocalDescription().SDP
	res, err := http.Post(url, "application/sdp", strings.NewReader(out.Offer))
	if err != nil {
		out.Error = err.Error()
		return out
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		out.Error = fmt.Sprintf("WHIP POST answered %d: %s", res.StatusCode, strings.TrimSpace(string(answer)))
		return out
	}
	resource, err := res.Request.URL.Parse(res.Header.Get("Location"))
	if err != nil {
		out.Error = err.Error()
		return out
	}
	defer func() {
		req, _ := http.NewRequest(http.MethodDelete, resource.String(), nil)
		if r, err := http.DefaultClient.Do(req); err == nil {
			out.DeleteStatus = r.StatusCode
			r.Body.Close()
		}
	}()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		out.Error = "SetRemoteDescription: " + err.Error()
		return out
	}
	if err := waitConnected(pc, 10*time.Second); err != nil {
		out.Error = err.Error()
		return out
	}
	out.Connected = true
	stop := make(chan struct{})
	go sendIvf(ivf, video, stop, &out.VideoSent)
	go sendOgg(ogg, audio, stop, &out.AudioSent)
	select {
	case <-opened:
		for i := 0; i < messageCount; i++ {
			text, b := message(i)
			if text {
				err = dc.SendText(string(b))
			} else {
				err = dc.Send(b)
			}
			if err == nil {
				out.MessagesSent++
			}
		}
	case <-time.After(10 * time.Second):
		out.Error = "data channel did not open"
	}
	time.Sleep(time.Duration(seconds * float64(time.Second)))
	close(stop)
	time.Sleep(500 * time.Millisecond)
	out.AudioReceived = atomic.LoadInt64(&c.audio)
	out.VideoReceived = atomic.LoadInt64(&c.video)
	out.MessagesIntact = atomic.LoadInt64(&c.messages)
	out.OK = out.Error == "" && out.AudioReceived > 0 && out.VideoReceived > 0 && out.MessagesIntact == messageCount
	return out
}

// server: every POSTed offer gets a peer connection that echoes RTP and messages back.
type server struct {
	api      *webrtc.API
	mu       sync.Mutex
	sessions map[string]*webrtc.PeerConnection
	seq      int
	c        counts
	answers  []string
}

func (s *server) offer(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fail := func(status int, err error) {
		pc.Close()
		http.Error(w, err.Error(), status)
	}
	// Tracks added before the offer is applied take its sendrecv m-sections (pion's reflect example).
	audio, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pion-echo")
	video, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pion-echo")
	for _, t := range []webrtc.TrackLocal{audio, video} {
		sender, err := pc.AddTrack(t)
		if err != nil {
			fail(http.StatusInternalServerError, err)
			return
		}
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := sender.Read(buf); err != nil {
					return
				}
			}
		}()
	}
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		forward := audio
		if track.Kind() == webrtc.RTPCodecTypeVideo {
			forward = video
		}
		countTrack(track, &s.c, forward)
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			var err error
			if m.IsString {
				err = dc.SendText(string(m.Data))
			} else {
				err = dc.Send(m.Data)
			}
			if err == nil {
				atomic.AddInt64(&s.c.messages, 1)
			}
		})
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(body)}); err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	answer, err := pc.CreateAnswer(nil)
	if err == nil {
		gathered := webrtc.GatheringCompletePromise(pc)
		err = pc.SetLocalDescription(answer)
		<-gathered
	}
	if err != nil {
		fail(http.StatusBadRequest, err)
		return
	}
	s.mu.Lock()
	s.seq++
	id := strconv.Itoa(s.seq)
	s.sessions[id] = pc
	s.answers = append(s.answers, pc.LocalDescription().SDP)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/whip/"+id)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(pc.LocalDescription().SDP))
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/whip" && r.Method == http.MethodPost:
		s.offer(w, r)
	case strings.HasPrefix(r.URL.Path, "/whip/") && r.Method == http.MethodDelete:
		id := strings.TrimPrefix(r.URL.Path, "/whip/")
		s.mu.Lock()
		pc := s.sessions[id]
		delete(s.sessions, id)
		s.mu.Unlock()
		if pc == nil {
			http.NotFound(w, r)
			return
		}
		pc.Close()
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "not here", http.StatusNotFound)
	}
}

func runServer() error {
	api, err := newAPI()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s := &server{api: api, sessions: map[string]*webrtc.PeerConnection{}}
	go func() { _ = http.Serve(ln, s) }()
	emit(map[string]string{"url": "http://" + ln.Addr().String() + "/whip"})
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) == "stats" {
			s.mu.Lock()
			last := ""
			if len(s.answers) > 0 {
				last = s.answers[len(s.answers)-1]
			}
			s.mu.Unlock()
			emit(map[string]interface{}{
				"audioPacketsReceived": atomic.LoadInt64(&s.c.audio),
				"videoPacketsReceived": atomic.LoadInt64(&s.c.video),
				"messagesEchoed":       atomic.LoadInt64(&s.c.messages),
				"answer":               last,
			})
		}
	}
	s.mu.Lock()
	for _, pc := range s.sessions {
		pc.Close()
	}
	s.mu.Unlock()
	return nil
}

func main() {
	if len(os.Args) >= 6 && os.Args[1] == "client" {
		seconds, err := strconv.ParseFloat(os.Args[3], 64)
		if err != nil {
			emit(clientSummary{Error: "seconds: " + err.Error()})
			os.Exit(2)
		}
		out := runClient(os.Args[2], seconds, os.Args[4], os.Args[5])
		emit(out)
		if !out.OK {
			os.Exit(1)
		}
		return
	}
	if len(os.Args) == 2 && os.Args[1] == "server" {
		if err := runServer(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintln(os.Stderr, errors.New("usage: pion-peer client <whip-url> <seconds> <vp8.ivf> <opus.ogg> | pion-peer server"))
	os.Exit(2)
}
