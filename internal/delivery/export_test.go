package delivery

// WaitingWrites is how many writes wait in Throttle for a place.
func (p *Pipeline) WaitingWrites() int {
	p.push.mu.Lock()
	defer p.push.mu.Unlock()
	return len(p.push.queue)
}
