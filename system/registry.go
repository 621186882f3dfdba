package system

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// StoreOpener opens a store from a backend-specific DSN ("" means the backend's default).
type StoreOpener func(ctx context.Context, dsn string) (Store, error)

// BusOpener opens a bus from a backend-specific DSN ("" means the backend's default).
type BusOpener func(ctx context.Context, dsn string) (Bus, error)

// The registries are written from backends' init functions and read by `headroom serve`,
// so --store and --bus select a backend by name. Import a backend package (or
// system/backend/all) for its side effect of registering.
var (
	regMu  sync.RWMutex
	stores = map[string]StoreOpener{}
	buses  = map[string]BusOpener{}
)

// RegisterStore makes a store backend available by name. It panics on a duplicate name,
// which is a programming error caught at start.
func RegisterStore(name string, open StoreOpener) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := stores[name]; dup || open == nil {
		panic(fmt.Sprintf("system: RegisterStore %q twice or with nil opener", name))
	}
	stores[name] = open
}

// RegisterBus makes a bus backend available by name; panics on a duplicate.
func RegisterBus(name string, open BusOpener) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := buses[name]; dup || open == nil {
		panic(fmt.Sprintf("system: RegisterBus %q twice or with nil opener", name))
	}
	buses[name] = open
}

// OpenStore opens the store backend registered as name.
func OpenStore(ctx context.Context, name, dsn string) (Store, error) {
	regMu.RLock()
	open := stores[name]
	regMu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("store %q: unknown backend (known: %s): %w",
			name, strings.Join(StoreNames(), ", "), ErrInvalid)
	}
	s, err := open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	return s, nil
}

// OpenBus opens the bus backend registered as name.
func OpenBus(ctx context.Context, name, dsn string) (Bus, error) {
	regMu.RLock()
	open := buses[name]
	regMu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("bus %q: unknown backend (known: %s): %w",
			name, strings.Join(BusNames(), ", "), ErrInvalid)
	}
	b, err := open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("bus %s: %w", name, err)
	}
	return b, nil
}

// StoreNames lists the registered store backends, sorted.
func StoreNames() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	return sortedKeys(stores)
}

// BusNames lists the registered bus backends, sorted.
func BusNames() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	return sortedKeys(buses)
}

func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
