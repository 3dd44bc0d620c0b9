package collectd

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// This file encodes collectd's binary network protocol
// (https://collectd.org/wiki/index.php/Binary_protocol, and collectd's
// src/network.c): a datagram is a sequence of parts, each a 16-bit type, a
// 16-bit length that counts the 4-byte header, and a payload. Host, plugin,
// plugin instance, type, type instance, time and interval are sent only
// when they differ from the previous value list of the same datagram; a
// values part ends each value list.

// Part types.
const (
	partHost           = 0x0000
	partPlugin         = 0x0002
	partPluginInstance = 0x0003
	partType           = 0x0004
	partTypeInstance   = 0x0005
	partValues         = 0x0006
	partTimeHR         = 0x0008
	partIntervalHR     = 0x0009
	partSignSHA256     = 0x0200
	partEncryptAES256  = 0x0210
)

// DSType is a data source type of types.db.
type DSType uint8

// Data source types, as the values part encodes them.
const (
	Counter  DSType = 0
	Gauge    DSType = 1
	Derive   DSType = 2
	Absolute DSType = 3
)

// Value is one data source's value: F for a gauge, I for the others.
type Value struct {
	Type DSType
	F    float64
	I    int64
}

// ValueList is one identifier's values at one time, as collectd's
// value_list_t.
type ValueList struct {
	Host, Plugin, PluginInstance, Type, TypeInstance string
	Time                                             time.Time
	Interval                                         time.Duration
	Values                                           []Value
}

// Identifier is collectd's "host/plugin[-instance]/type[-instance]".
func (vl *ValueList) Identifier() string {
	s := vl.Host + "/" + vl.Plugin
	if vl.PluginInstance != "" {
		s += "-" + vl.PluginInstance
	}
	s += "/" + vl.Type
	if vl.TypeInstance != "" {
		s += "-" + vl.TypeInstance
	}
	return s
}

// SecurityLevel is the network plugin's SecurityLevel.
type SecurityLevel int

// Security levels.
const (
	None SecurityLevel = iota
	Sign
	Encrypt
)

// MaxPacket is the datagram size of collectd's network plugin
// (MaxPacketSize default: 1452 bytes, an Ethernet frame without IPv6 and UDP
// headers).
const MaxPacket = 1452

// ErrTooBig is returned for a value list that does not fit in an empty
// datagram.
var ErrTooBig = errors.New("value list does not fit in a datagram")

// packer fills datagrams with value lists.
type packer struct {
	level          SecurityLevel
	user, password string
	key            [32]byte // SHA-256 of password, the AES-256 key

	buf  []byte    // plaintext parts of the datagram being filled
	last ValueList // the fields already sent in buf
}

func newPacker(level SecurityLevel, user, password string) *packer {
	p := &packer{level: level, user: user, password: password, buf: make([]byte, 0, MaxPacket)}
	p.key = sha256.Sum256([]byte(password))
	return p
}

// room is the plaintext bytes a datagram can hold after the security
// part's overhead.
func (p *packer) room() int {
	switch p.level {
	case Sign:
		return MaxPacket - (4 + 32 + len(p.user))
	case Encrypt:
		return MaxPacket - (4 + 2 + len(p.user) + aes.BlockSize + sha1.Size)
	}
	return MaxPacket
}

// empty reports whether no value list waits.
func (p *packer) empty() bool { return len(p.buf) == 0 }

// add appends vl to the datagram being filled. It returns false, changing
// nothing, when vl does not fit: the caller takes the datagram and adds vl
// again; ErrTooBig when it would not fit even an empty datagram.
func (p *packer) add(vl *ValueList) (bool, error) {
	n := len(p.buf)
	last := p.last
	p.appendValueList(vl)
	if len(p.buf) <= p.room() {
		return true, nil
	}
	p.buf, p.last = p.buf[:n], last
	if n == 0 {
		return false, fmt.Errorf("%s: %w", vl.Identifier(), ErrTooBig)
	}
	return false, nil
}

func (p *packer) appendValueList(vl *ValueList) {
	first := len(p.buf) == 0
	str := func(typ uint16, s string, last *string) {
		if first || s != *last {
			p.buf = appendString(p.buf, typ, s)
			*last = s
		}
	}
	str(partHost, vl.Host, &p.last.Host)
	if first || !vl.Time.Equal(p.last.Time) {
		p.buf = appendNumber(p.buf, partTimeHR, cdtime(vl.Time))
		p.last.Time = vl.Time
	}
	if first || vl.Interval != p.last.Interval {
		p.buf = appendNumber(p.buf, partIntervalHR, cdduration(vl.Interval))
		p.last.Interval = vl.Interval
	}
	str(partPlugin, vl.Plugin, &p.last.Plugin)
	str(partPluginInstance, vl.PluginInstance, &p.last.PluginInstance)
	str(partType, vl.Type, &p.last.Type)
	str(partTypeInstance, vl.TypeInstance, &p.last.TypeInstance)
	p.buf = appendValues(p.buf, vl.Values)
}

// take returns the datagram, signed or encrypted as the level asks, and
// starts a new one. The result is valid until the next call.
func (p *packer) take(out []byte) ([]byte, error) {
	payload := p.buf
	p.buf, p.last = p.buf[:0], ValueList{}
	switch p.level {
	case Sign:
		return p.sign(out[:0], payload), nil
	case Encrypt:
		return p.encrypt(out[:0], payload)
	}
	return append(out[:0], payload...), nil
}

// sign prepends the signature part: HMAC-SHA-256, keyed with the
// password, of the user name followed by the payload.
func (p *packer) sign(out, payload []byte) []byte {
	mac := hmac.New(sha256.New, []byte(p.password))
	mac.Write([]byte(p.user))
	mac.Write(payload)
	out = binary.BigEndian.AppendUint16(out, partSignSHA256)
	out = binary.BigEndian.AppendUint16(out, uint16(4+sha256.Size+len(p.user)))
	out = mac.Sum(out)
	out = append(out, p.user...)
	return append(out, payload...)
}

// encrypt wraps the payload in the encryption part: user name, a random
// IV, then AES-256 in OFB mode, keyed with SHA-256 of the password, over
// the SHA-1 of the payload followed by the payload.
func (p *packer) encrypt(out, payload []byte) ([]byte, error) {
	size := 4 + 2 + len(p.user) + aes.BlockSize + sha1.Size + len(payload)
	out = binary.BigEndian.AppendUint16(out, partEncryptAES256)
	out = binary.BigEndian.AppendUint16(out, uint16(size))
	out = binary.BigEndian.AppendUint16(out, uint16(len(p.user)))
	out = append(out, p.user...)
	ivAt := len(out)
	out = append(out, make([]byte, aes.BlockSize)...)
	iv := out[ivAt:]
	if _, err := rand.Read(iv); err != nil {
		return nil, fmt.Errorf("collectd: encryption IV: %w", err)
	}
	plainAt := len(out)
	sum := sha1.Sum(payload)
	out = append(out, sum[:]...)
	out = append(out, payload...)
	block, err := aes.NewCipher(p.key[:])
	if err != nil {
		return nil, fmt.Errorf("collectd: %w", err)
	}
	//lint:ignore SA1019 OFB is what collectd's protocol prescribes (network.c)
	cipher.NewOFB(block, iv).XORKeyStream(out[plainAt:], out[plainAt:])
	return out, nil
}

func appendString(b []byte, typ uint16, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(s)+1))
	b = append(b, s...)
	return append(b, 0)
}

func appendNumber(b []byte, typ uint16, v uint64) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, 12)
	return binary.BigEndian.AppendUint64(b, v)
}

// appendValues appends the values part: the count, one type byte per
// value, then the values, big-endian except gauges, which are
// little-endian doubles (the protocol's one exception).
func appendValues(b []byte, vs []Value) []byte {
	b = binary.BigEndian.AppendUint16(b, partValues)
	b = binary.BigEndian.AppendUint16(b, uint16(4+2+9*len(vs)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(vs)))
	for _, v := range vs {
		b = append(b, byte(v.Type))
	}
	for _, v := range vs {
		if v.Type == Gauge {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.F))
		} else {
			b = binary.BigEndian.AppendUint64(b, uint64(v.I))
		}
	}
	return b
}

// cdtime is collectd's high-resolution time: seconds × 2^30.
func cdtime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.Unix())<<30 | uint64(t.Nanosecond())<<30/1e9
}

func cdduration(d time.Duration) uint64 {
	return uint64(d/time.Second)<<30 | uint64(d%time.Second)<<30/1e9
}
