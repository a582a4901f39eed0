"""A synthetic city that lives day by day and emits what each department would deliver.

State is kept in numpy arrays (persons, entities, certificates); each simulated day draws
births, deaths, migration, marriages, employment, business registrations, certificate
lifecycles and certificate uses at plausible rates, modulated by the official workday
calendar. Every event is emitted to the feed that owns it with the business date on
which the department delivers it (often a few days after the event itself).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from citybrain.synth.hotline import Hotline
from citybrain.synth.ids import EPOCH, id_numbers, place_codes_for, usccs
from citybrain.synth.names import entity_names, person_names
from citybrain.synth.text import decimal, iso_dates, iso_seconds, join
from warehouse.contract.city import City
from warehouse.contract.feeds import ETHNICITY_CODES
from warehouse.contract.workdays import day_kind, near_spring_festival


@dataclass(frozen=True)
class Scale:
    """Size of a synthetic city and how busy it is."""

    name: str
    residents: int
    entities: int
    default_days: int
    usage_per_resident_day: float
    chunk_rows: int = 1_000_000


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 2_000, 200, 14, 0.05),
    "small": Scale("small", 100_000, 10_000, 90, 0.05),
    # Hangzhou: ~12.5M residents, ~1.5M market entities, ~17M records exchanged a day
    # (nearly all of them certificate uses).
    "city": Scale("city", 12_500_000, 1_500_000, 1, 1.35),
}

# Annual rates per resident (or per entity / employee / certificate) of each event kind.
RATES = {
    "birth": 0.0065, "death": 0.0060, "move_in": 0.040, "move_out": 0.035, "update": 0.020,
    "marriage": 0.0055, "divorce": 0.0020, "enrol": 0.25, "leave": 0.22,
    "establish": 0.12, "change": 0.20, "deregister": 0.05, "revoke": 0.008,
    "renew": 0.05, "driving_issue": 0.004,
}
# Five-year age bands 0-4 ... 95-99, shaped like Hangzhou's 2020 census pyramid.
AGE_BANDS = np.array([5.0, 5.3, 4.8, 4.3, 6.5, 9.0, 10.0, 8.5, 7.5, 8.0, 8.0, 6.5, 5.0, 4.5, 3.2, 2.0, 1.2, 0.6, 0.2, 0.05])
INDUSTRY_WEIGHTS = {"A": 2, "C": 12, "E": 1, "F": 8, "G": 30, "H": 9, "I": 8, "K": 2, "L": 4, "M": 8, "N": 2, "O": 4, "P": 2, "Q": 2, "R": 3, "S": 1, "T": 1, "B": 0.2, "D": 0.5, "J": 0.3}
ENTITY_TYPES = {"enterprise": ("91", 0.55), "individual_business": ("92", 0.40), "farmer_cooperative": ("93", 0.02),
                "public_institution": ("12", 0.02), "social_organization": ("51", 0.01)}
SERVICES = [f"{p}-{i:03d}" for p in ("GA", "WJ", "MZ", "RS", "SJ", "ZW") for i in range(1, 6)]
CAUSES = ["循环系统疾病", "肿瘤", "呼吸系统疾病", "损伤和中毒", "内分泌疾病", "神经系统疾病", "其他"]
CERT_ISSUER = {"id_card": "psb", "driving_licence": "psb", "marriage_certificate": "civil",
               "birth_medical_certificate": "health", "business_licence": "samr", "food_business_licence": "samr"}
CERT_PREFIX = {"id_card": "SFZ", "driving_licence": "JSZ", "marriage_certificate": "JHZ",
               "birth_medical_certificate": "CSZ", "business_licence": "YYZZ", "food_business_licence": "SPJY"}
# Certificate state keeps type and holder kind as small codes (tens of millions of rows).
CERT_TYPES = np.array(list(CERT_PREFIX))
CT = {t: i for i, t in enumerate(CERT_TYPES)}
CERT_ISSUERS = np.array([CERT_ISSUER[t] for t in CERT_TYPES])
HOLDER_KINDS = np.array(["person", "legal_person"])
# The same as ASCII byte strings, the form emitted columns take (cheap to build and to hand to Arrow).
CERT_TYPES_B, CERT_ISSUERS_B, HOLDER_KINDS_B = CERT_TYPES.astype("S"), CERT_ISSUERS.astype("S"), HOLDER_KINDS.astype("S")
SERVICES_B = np.array(SERVICES, dtype="S")
PERSON, LEGAL_PERSON = 0, 1
# Hostile but valid values, so every layer is exercised with them.
HOSTILE_PERSON_NAME = "<script>alert(1)</script>"
HOSTILE_ENTITY_NAME = '杭州"小"餐饮, 有限公司'

Emit = Callable[[str, np.ndarray, dict[str, np.ndarray]], None]


def days_of(dates: np.ndarray) -> np.ndarray:
    return (dates - np.datetime64("1970-01-01")).astype(np.int64)


def iso(days: np.ndarray | int) -> np.ndarray:
    """YYYY-MM-DD of day numbers, as ASCII byte strings."""
    return iso_dates(days)


def in_chunks(method: Callable) -> Callable:
    """Call an emitter on slices of its row arrays, so a 12.5-million-row initial load
    never materialises as one batch of strings."""

    def wrapper(self: World, emit: Emit, idx: np.ndarray, *args):
        n = len(idx)
        step = self.scale.chunk_rows
        if n <= step:
            return method(self, emit, idx, *args)
        for start in range(0, n, step):
            sl = slice(start, start + step)
            method(self, emit, idx[sl], *[a[sl] if isinstance(a, np.ndarray) and len(a) == n else a for a in args])
        return None

    wrapper.__doc__ = method.__doc__
    return wrapper


def serials(prefix: str, start: int, n: int, width: int) -> np.ndarray:
    """``n`` identifiers: the prefix and a zero-padded running number (ASCII byte strings)."""
    if n == 0:
        return np.array([], dtype=f"S{len(prefix) + width}")
    return join(prefix, decimal(np.arange(start, start + n), width))


class Grow:
    """A column store that grows by appending and is indexed by integer ids.

    Columns live in buffers with room to spare (appending copies the old rows only when a
    buffer doubles); ``cols`` holds views of the filled part.
    """

    def __init__(self, **cols: np.ndarray) -> None:
        self.buffers = dict(cols)
        self.n = len(next(iter(cols.values())))
        self.cols = {k: v[: self.n] for k, v in cols.items()}

    def __len__(self) -> int:
        return self.n

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["cols"][name]
        except KeyError:
            raise AttributeError(name) from None

    def append(self, **cols: np.ndarray) -> np.ndarray:
        start = self.n
        end = start + len(next(iter(cols.values())))
        for k, v in cols.items():
            buf = self.buffers[k]
            if end > len(buf):
                grown = np.empty(max(end, 2 * len(buf)), dtype=buf.dtype)
                grown[:start] = buf[:start]
                self.buffers[k] = buf = grown
            buf[start:end] = np.asarray(v).astype(buf.dtype, copy=False)
        self.n = end
        self.cols = {k: b[:end] for k, b in self.buffers.items()}
        return np.arange(start, end)

    def set(self, name: str, idx: np.ndarray, values) -> None:
        self.cols[name][idx] = values


class World:
    """The synthetic city's state and its daily life."""

    def __init__(self, city: City, scale: Scale, start: dt.date, seed: int, *, clean: bool = False) -> None:
        # A clean city plants no inconsistency: every department records everything it should.
        self.clean = clean
        self.city = city
        self.scale = scale
        self.start = start
        self.rng = np.random.default_rng(seed)
        self.dist_codes = np.array(city.district_codes)
        self.dist_codes_b = self.dist_codes.astype("S")
        self.dist_names = np.array([d.name for d in city.districts])
        pop = np.array([d.population for d in city.districts], dtype=float)
        self.dist_weights = pop / pop.sum()
        self.counters: dict[str, int] = defaultdict(int)
        self.hotline = Hotline(city, scale.residents, seed, clean=clean)

    # ------------------------------------------------------------------ helpers
    def _ids(self, prefix: str, day: int, n: int) -> np.ndarray:
        start = self.counters[prefix]
        self.counters[prefix] += n
        stamp = (EPOCH + dt.timedelta(int(day))).strftime("%Y%m%d")
        return serials(f"{prefix}{stamp}", start, n, 8)

    def _districts(self, n: int) -> np.ndarray:
        return self.rng.choice(len(self.dist_codes), n, p=self.dist_weights).astype(np.int16)

    def _lag_to_workday(self, day: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Business dates: the event day plus a lag, moved forward to a workday."""
        out = day + self.rng.integers(lo, hi + 1, len(day))
        for i in range(len(out)):
            while day_kind(EPOCH + dt.timedelta(int(out[i]))) != "workday":
                out[i] += 1
        return out

    def _poisson(self, base: float, rate_key: str, factor: float) -> int:
        return int(self.rng.poisson(base * RATES[rate_key] / 365.0 * factor))

    def _new_people(self, n: int, day: int, ages_years: np.ndarray, districts: np.ndarray, *, native: bool) -> np.ndarray:
        rng = self.rng
        birth = (day - ages_years * 365.25 - rng.integers(0, 365, n)).astype(np.int64)
        if native:  # newborns: born today
            birth = np.where(ages_years == 0, day, birth)
        years = np.array(birth, dtype="datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
        male_p = np.where(ages_years >= 60, 0.47, 0.52)
        gender = np.where(rng.random(n) < male_p, "1", "2")
        prefer = self.dist_codes[districts] if native else None
        places = place_codes_for(years, rng, prefer, as_bytes=True)
        ids = id_numbers(places, birth, gender, rng, as_bytes=True)
        eth = np.where(rng.random(n) < 0.985, "01", np.array(ETHNICITY_CODES[1:56])[rng.integers(0, 55, n)])
        return self.persons.append(
            id=ids, name=person_names(n, rng), gender=gender, birth=birth, eth=eth,
            dist=districts, status=np.zeros(n, np.int8), employer=np.full(n, -1, np.int32),
            spouse=np.full(n, -1, np.int32), resident=np.ones(n, bool),
        )

    def _ages(self) -> np.ndarray:
        return (self.today - self.persons.birth) / 365.25

    # ------------------------------------------------------------------ baseline
    def build_baseline(self, emit: Emit) -> None:
        """The existing city on the first business date, delivered as departments' initial loads."""
        rng, sc = self.rng, self.scale
        day0 = (self.start - EPOCH).days
        self.today = day0
        self.persons = Grow(
            id=np.array([], "S18"), name=np.array([], "<U4"), gender=np.array([], "<U1"), birth=np.array([], np.int64),
            eth=np.array([], "<U2"), dist=np.array([], np.int16), status=np.array([], np.int8),
            employer=np.array([], np.int32), spouse=np.array([], np.int32), resident=np.array([], bool),
        )
        n = sc.residents
        band = rng.choice(len(AGE_BANDS), n, p=AGE_BANDS / AGE_BANDS.sum())
        ages = band * 5 + rng.integers(0, 5, n)
        self._new_people(n, day0, ages, self._districts(n), native=True)
        # One resident whose name is markup: it must render as text everywhere.
        self.name_overrides = {7: HOSTILE_PERSON_NAME} if n > 10 else {}
        self._emit_psb(emit, np.arange(n), "update", np.full(n, day0), np.full(n, day0))

        # Non-residents who appear as legal representatives or certificate holders.
        ext = max(3, n // 200)
        ext_ages = rng.integers(25, 65, ext)
        ext_idx = self._new_people(ext, day0, ext_ages, self._districts(ext), native=False)
        self.persons.cols["resident"][ext_idx] = False
        self.persons.cols["status"][ext_idx] = 3

        # Marriages among adults (about 60% of those over 25).
        self._pair_baseline_couples()

        # Market entities.
        ne = sc.entities
        self.entities = Grow(
            uscc=np.array([], "S18"), name=np.array([], "<U40"), etype=np.array([], "<U20"), rep=np.array([], np.int64),
            capital=np.array([], float), industry=np.array([], "<U1"), dist=np.array([], np.int16),
            status=np.array([], np.int8), size=np.array([], float),
        )
        est = day0 - rng.integers(1, 15 * 365, ne)
        eidx = self._new_entities(ne)
        if ne > 5:
            self.entities.cols["name"][3] = HOSTILE_ENTITY_NAME
        self._emit_samr(emit, eidx, "establish", est, np.full(ne, day0))

        # Employment: ~60% of working-age residents.
        ages = self._ages()
        workers = np.flatnonzero((ages >= 18) & (ages < 60) & (self.persons.status == 0))
        workers = workers[rng.random(len(workers)) < 0.6]
        self._enrol(emit, workers, day0 - rng.integers(1, 5 * 365, len(workers)), np.full(len(workers), day0))

        # Certificates.
        self.certs = Grow(
            no=np.array([], "S24"), ctype=np.array([], np.int8), holder_kind=np.array([], np.int8),
            holder=np.array([], np.int64), valid_from=np.array([], np.int64), valid_to=np.array([], np.int64),
            status=np.array([], np.int8),
        )
        self.id_card_of = np.full(len(self.persons), -1, np.int64)
        adults = np.flatnonzero((ages >= 16) & (self.persons.status == 0))
        vf = day0 - rng.integers(1, 20 * 365, len(adults))
        self._issue(emit, "id_card", "person", adults, vf, vf + np.where(ages[adults] >= 46, -1, 20 * 365), np.full(len(adults), day0), historic=True)
        drivers = np.flatnonzero((ages >= 18) & (ages < 70) & (self.persons.status == 0))
        drivers = drivers[rng.random(len(drivers)) < 0.35]
        vf = day0 - rng.integers(1, 6 * 365, len(drivers))
        # Some licences lapsed recently: their valid_to lies before the first day.
        self._issue(emit, "driving_licence", "person", drivers, vf, vf + 6 * 365, np.full(len(drivers), day0), historic=True)
        married = np.flatnonzero(self.persons.spouse >= 0)
        vf = day0 - rng.integers(30, 30 * 365, len(married))
        self._issue(emit, "marriage_certificate", "person", married, vf, np.full(len(married), -1), np.full(len(married), day0), historic=True)
        vf = est
        self._issue(emit, "business_licence", "legal_person", eidx, vf, np.full(ne, -1), np.full(ne, day0), historic=True)
        food = eidx[(self.entities.industry[eidx] == "H") & (rng.random(ne) < 0.8)]
        vf = day0 - rng.integers(1, 5 * 365, len(food))
        self._issue(emit, "food_business_licence", "legal_person", food, vf, vf + 5 * 365, np.full(len(food), day0), historic=True)
        # A few certificates held by non-residents the population library never sees.
        ext_holders = ext_idx[: 0 if self.clean else max(1, len(ext_idx) // 3)]
        vf = day0 - rng.integers(1, 365, len(ext_holders))
        self._issue(emit, "driving_licence", "person", ext_holders, vf, vf + 6 * 365, np.full(len(ext_holders), day0), historic=True)

    def _pair_baseline_couples(self) -> None:
        ages = self._ages()
        p = self.persons
        men = np.flatnonzero((p.gender == "1") & (ages >= 25) & (p.status == 0))
        women = np.flatnonzero((p.gender == "2") & (ages >= 23) & (p.status == 0))
        men = men[self.rng.random(len(men)) < 0.6]
        women = women[self.rng.random(len(women)) < 0.6]
        men = men[np.argsort(ages[men])]
        women = women[np.argsort(ages[women])]
        k = min(len(men), len(women))
        p.set("spouse", men[:k], women[:k])
        p.set("spouse", women[:k], men[:k])

    def _new_entities(self, n: int, rep_pool: np.ndarray | None = None) -> np.ndarray:
        rng = self.rng
        names = list(ENTITY_TYPES)
        w = np.array([ENTITY_TYPES[t][1] for t in names])
        types = np.array(names)[rng.choice(len(names), n, p=w / w.sum())]
        prefix = np.array([ENTITY_TYPES[t][0] for t in types]) if n else np.array([], "<U2")
        dist = self._districts(n)
        codes = usccs(prefix, self.dist_codes[dist], rng, as_bytes=True)
        ind_names = list(INDUSTRY_WEIGHTS)
        iw = np.array(list(INDUSTRY_WEIGHTS.values()))
        industry = np.array(ind_names)[rng.choice(len(ind_names), n, p=iw / iw.sum())]
        ages = self._ages()
        p = self.persons
        if rep_pool is None:
            rep_pool = np.flatnonzero((ages >= 22) & (ages < 70) & (p.status == 0))
        reps = rep_pool[rng.integers(0, len(rep_pool), n)]
        # ~3% of legal representatives live outside the city (not in the population library).
        outside = np.flatnonzero(~p.resident)
        ext = rng.random(n) < (0.0 if self.clean else 0.03)
        reps = np.where(ext, outside[rng.integers(0, len(outside), n)], reps)
        capital = np.round(rng.lognormal(4.0, 1.5, n), 2)
        capital = np.where((types == "individual_business") & (rng.random(n) < 0.5), np.nan, capital)
        return self.entities.append(
            uscc=codes, name=entity_names(types, self.dist_names[dist], rng), etype=types, rep=reps,
            capital=capital, industry=industry, dist=dist, status=np.zeros(n, np.int8), size=rng.pareto(1.2, n) + 1,
        )

    # ------------------------------------------------------------------ emitters
    @in_chunks
    def _emit_psb(self, emit: Emit, idx: np.ndarray, etype: str, event_day: np.ndarray, bdate: np.ndarray) -> None:
        p = self.persons
        names = p.name[idx]
        for person, name in self.name_overrides.items():
            hit = idx == person
            if hit.any():
                names = names.astype(object)
                names[hit] = name
        emit("psb/household_events", bdate, {
            "event_id": self._ids("HJ", self.today, len(idx)),
            "id_number": p.id[idx], "name": names, "gender": p.gender[idx],
            "birth_date": iso(p.birth[idx]), "ethnicity": p.eth[idx], "district_code": self.dist_codes_b[p.dist[idx]],
            "event_type": np.full(len(idx), etype.encode()), "event_date": iso(event_day),
        })

    @in_chunks
    def _emit_samr(self, emit: Emit, idx: np.ndarray, etype: str, event_day: np.ndarray, bdate: np.ndarray) -> None:
        e = self.entities
        cap = e.capital[idx]
        emit("samr/entity_events", bdate, {
            "event_id": self._ids("SC", self.today, len(idx)), "uscc": e.uscc[idx], "name": e.name[idx],
            "entity_type": e.etype[idx], "legal_rep_id_number": self.persons.id[e.rep[idx]],
            "registered_capital": np.where(np.isnan(cap), None, np.char.mod("%.2f", np.nan_to_num(cap))).astype(object),
            "industry_section": e.industry[idx], "district_code": self.dist_codes_b[e.dist[idx]],
            "event_type": np.full(len(idx), etype.encode()), "event_date": iso(event_day),
        })

    def _enrol(self, emit: Emit, people: np.ndarray, event_day: np.ndarray, bdate: np.ndarray) -> None:
        e = self.entities
        active = np.flatnonzero(e.status == 0)
        w = e.size[active] / e.size[active].sum()
        employer = active[self.rng.choice(len(active), len(people), p=w)]
        self.persons.set("employer", people, employer)
        uscc = e.uscc[employer]
        # ~0.5% of enrolments name an employer registered outside the city (unknown to samr).
        unknown = self.rng.random(len(people)) < (0.0 if self.clean else 0.005)
        if unknown.any():
            uscc = np.where(unknown, usccs(np.full(len(people), "91"), np.full(len(people), "330100"), self.rng, as_bytes=True), uscc)
        self._emit_hrss(emit, people, uscc, "enrol", event_day, bdate)

    @in_chunks
    def _emit_hrss(self, emit: Emit, people: np.ndarray, uscc: np.ndarray, etype: str, event_day: np.ndarray, bdate: np.ndarray) -> None:
        emit("hrss/insurance_events", bdate, {
            "event_id": self._ids("SB", self.today, len(people)), "id_number": self.persons.id[people],
            "employer_uscc": uscc, "event_type": np.full(len(people), etype.encode()), "event_date": iso(event_day),
        })

    def _id_cards(self, persons: np.ndarray) -> np.ndarray:
        """Each person's identity card (its certificate index), -1 for none: persons born or
        moved in after the last card was issued are past the end of the index."""
        cards = np.full(len(persons), -1, np.int64)
        known = persons < len(self.id_card_of)
        cards[known] = self.id_card_of[persons[known]]
        return cards

    def _issue(self, emit: Emit, ctype: str, kind: str, holders: np.ndarray, vf: np.ndarray, vt: np.ndarray,
               bdate: np.ndarray, *, historic: bool = False, event: str = "issue") -> np.ndarray:
        n = len(holders)
        start = self.counters["cert"]
        self.counters["cert"] += n
        nos = serials(f"{CERT_PREFIX[ctype]}3301", start, n, 12)
        cidx = self.certs.append(no=nos, ctype=np.full(n, CT[ctype], np.int8),
                                 holder_kind=np.full(n, PERSON if kind == "person" else LEGAL_PERSON, np.int8),
                                 holder=holders, valid_from=vf, valid_to=vt, status=np.zeros(n, np.int8))
        if ctype == "id_card":
            if len(self.id_card_of) < len(self.persons):
                self.id_card_of = np.concatenate([self.id_card_of, np.full(len(self.persons) - len(self.id_card_of), -1)])
            self.id_card_of[holders] = cidx
        self._emit_cert(emit, cidx, event, vf if historic else self.today + np.zeros(n, np.int64), bdate)
        return cidx

    @in_chunks
    def _emit_cert(self, emit: Emit, cidx: np.ndarray, etype: str, event_day: np.ndarray, bdate: np.ndarray) -> None:
        c = self.certs
        kind = c.holder_kind[cidx]
        holder = np.where(kind == PERSON, self.persons.id[np.where(kind == PERSON, c.holder[cidx], 0)],
                          self.entities.uscc[np.where(kind == LEGAL_PERSON, c.holder[cidx], 0)]) if len(cidx) else np.array([], "S18")
        vt = c.valid_to[cidx]
        ctype = c.ctype[cidx]
        emit("dsb/certificate_events", bdate, {
            "event_id": self._ids("ZZ", self.today, len(cidx)), "certificate_no": c.no[cidx],
            "certificate_type": CERT_TYPES_B[ctype], "holder_type": HOLDER_KINDS_B[kind], "holder_id": holder,
            "issuer": CERT_ISSUERS_B[ctype],
            "valid_from": iso(c.valid_from[cidx]),
            "valid_to": np.ma.masked_array(iso(np.maximum(vt, 0)), mask=vt < 0),
            "event_type": np.full(len(cidx), etype.encode()), "event_date": iso(event_day),
        })

    # ------------------------------------------------------------------ one day
    def live_day(self, day: dt.date, emit: Emit) -> None:
        """Simulate one calendar day and emit its events."""
        rng = self.rng
        d = (day - EPOCH).days
        self.today = d
        kind = day_kind(day)
        office = 1.0 if kind == "workday" else 0.06
        if kind == "workday" and near_spring_festival(day):
            office = 0.6
        p, e = self.persons, self.entities
        registered = np.flatnonzero(p.status == 0)
        n_reg = len(registered)
        ages = self._ages()

        def lagged(n: int, lo: int, hi: int) -> np.ndarray:
            return self._lag_to_workday(np.full(n, d), lo, hi)

        # Births: registered by psb within two weeks; health issues the birth certificate.
        nb = self._poisson(n_reg, "birth", 1.0)
        if nb:
            babies = self._new_people(nb, d, np.zeros(nb, int), self._districts(nb), native=True)
            self._emit_psb(emit, babies, "birth", np.full(nb, d), lagged(nb, 0, 14))
            self._issue(emit, "birth_medical_certificate", "person", babies, np.full(nb, d), np.full(nb, -1), np.full(nb, d + 1))

        # Deaths: health reports within two days; psb usually records it days to weeks later.
        nd = self._poisson(n_reg, "death", 1.3 if day.month in (12, 1, 2) else 1.0)
        if nd and n_reg:
            w = np.exp(0.085 * (ages[registered] - 80))
            if self.clean:  # legal representatives of active entities stay alive (no deceased reps)
                w = np.where(np.isin(registered, e.rep[e.status == 0]), 0.0, w)
            dead = rng.choice(registered, min(nd, n_reg), replace=False, p=w / w.sum())
            p.set("status", dead, 2)
            n = len(dead)
            emit("health/death_records", d + rng.integers(0, 3, n), {
                "record_id": self._ids("SW", d, n), "id_number": p.id[dead], "death_date": iso(np.full(n, d)),
                "district_code": self.dist_codes_b[p.dist[dead]],
                "cause_category": np.where(rng.random(n) < 0.9, np.array(CAUSES)[rng.integers(0, len(CAUSES), n)], None).astype(object),
            })
            by_psb = dead[rng.random(n) < (1.0 if self.clean else 0.8)]
            if len(by_psb):
                bd = lagged(len(by_psb), 3, 30)
                self._emit_psb(emit, by_psb, "death", np.full(len(by_psb), d), bd)
                cards = self._id_cards(by_psb)
                keep = (cards >= 0) & (rng.random(len(cards)) < 0.85) & (not self.clean)
                cards, bd = cards[keep], bd[keep]
                cards_ok = self.certs.status[cards] == 0
                cards, bd = cards[cards_ok], bd[cards_ok]
                self.certs.set("status", cards, 2)
                self._emit_cert(emit, cards, "cancel", bd, bd)
            if self.clean:  # the data resources bureau cancels every certificate of the dead at once
                c = self.certs
                held = np.flatnonzero((c.holder_kind == PERSON) & (c.status == 0) & np.isin(c.holder, dead))
                c.set("status", held, 2)
                self._emit_cert(emit, held, "cancel", np.full(len(held), d), np.full(len(held), d))
            quit_job = dead[(p.employer[dead] >= 0)]
            if len(quit_job):
                self._leave(emit, quit_job, lagged(len(quit_job), 1, 20))

        # Migration out and in, and moves between districts.
        for etype in ("move_out", "update"):
            k = self._poisson(n_reg, etype, office)
            pool = registered[(ages[registered] >= 18) & (p.status[registered] == 0)]
            if k and len(pool):
                who = rng.choice(pool, min(k, len(pool)), replace=False)
                if etype == "move_out":
                    p.set("status", who, 1)
                    gone = who[p.employer[who] >= 0]
                    if len(gone):
                        self._leave(emit, gone, np.full(len(gone), d))
                else:
                    p.set("dist", who, self._districts(len(who)))
                self._emit_psb(emit, who, etype, np.full(len(who), d), np.full(len(who), d))
        k = self._poisson(n_reg, "move_in", office)
        if k:
            who = self._new_people(k, d, rng.integers(18, 46, k), self._districts(k), native=False)
            self._emit_psb(emit, who, "move_in", np.full(k, d), np.full(k, d))
            jobs = who[rng.random(k) < 0.5]
            if len(jobs):
                self._enrol(emit, jobs, np.full(len(jobs), d), lagged(len(jobs), 1, 30))

        # Marriages and divorces.
        ages = self._ages()
        k = self._poisson(n_reg, "marriage", office)
        single = (p.status == 0) & (p.spouse < 0)
        men = np.flatnonzero(single & (p.gender == "1") & (ages >= 22) & (ages < 45))
        women = np.flatnonzero(single & (p.gender == "2") & (ages >= 20) & (ages < 43))
        k = min(k, len(men), len(women))
        if k:
            m, w = rng.choice(men, k, replace=False), rng.choice(women, k, replace=False)
            p.set("spouse", m, w)
            p.set("spouse", w, m)
            self._emit_civil(emit, m, w, "marriage", d)
            both = np.concatenate([m, w])
            self._issue(emit, "marriage_certificate", "person", both, np.full(2 * k, d), np.full(2 * k, -1), np.full(2 * k, d))
        k = self._poisson(n_reg, "divorce", office)
        husbands = np.flatnonzero((p.gender == "1") & (p.spouse >= 0) & (p.status == 0))
        husbands = husbands[p.status[p.spouse[husbands]] == 0] if len(husbands) else husbands
        k = min(k, len(husbands))
        if k:
            m = rng.choice(husbands, k, replace=False)
            w = p.spouse[m]
            p.set("spouse", m, -1)
            p.set("spouse", w, -1)
            self._emit_civil(emit, m, w, "divorce", d)
            c = self.certs
            live_mc = np.flatnonzero((c.ctype == CT["marriage_certificate"]) & (c.status == 0) & np.isin(c.holder, np.concatenate([m, w])))
            c.set("status", live_mc, 2)
            self._emit_cert(emit, live_mc, "cancel", np.full(len(live_mc), d), np.full(len(live_mc), d))

        # Employment.
        employed = np.flatnonzero((p.employer >= 0) & (p.status == 0))
        k = self._poisson(len(employed), "leave", office)
        if k and len(employed):
            self._leave(emit, rng.choice(employed, min(k, len(employed)), replace=False), np.full(min(k, len(employed)), d))
        idle = np.flatnonzero((p.employer < 0) & (p.status == 0) & (ages >= 18) & (ages < 60))
        k = min(self._poisson(len(employed), "enrol", office), len(idle))
        if k:
            self._enrol(emit, rng.choice(idle, k, replace=False), np.full(k, d), np.full(k, d))

        # Market entities and their licences.
        active = np.flatnonzero(e.status == 0)
        k = self._poisson(len(active), "establish", office)
        if k:
            new = self._new_entities(k)
            self._emit_samr(emit, new, "establish", np.full(k, d), np.full(k, d))
            self._issue(emit, "business_licence", "legal_person", new, np.full(k, d), np.full(k, -1), np.full(k, d))
            food = new[e.industry[new] == "H"]
            if len(food):
                self._issue(emit, "food_business_licence", "legal_person", food, np.full(len(food), d), np.full(len(food), d + 5 * 365), np.full(len(food), d))
        k = min(self._poisson(len(active), "change", office), len(active))
        if k:
            who = rng.choice(active, k, replace=False)
            moved = who[rng.random(k) < 0.1]
            e.set("dist", moved, self._districts(len(moved)))
            self._emit_samr(emit, who, "change", np.full(k, d), np.full(k, d))
        for etype, status, cert_event in (("deregister", 1, "cancel"), ("revoke", 2, "revoke")):
            active = np.flatnonzero(e.status == 0)
            k = min(self._poisson(len(active), etype, office), len(active))
            if not k:
                continue
            who = rng.choice(active, k, replace=False)
            e.set("status", who, status)
            self._emit_samr(emit, who, etype, np.full(k, d), np.full(k, d))
            # ~15% of closed entities keep a valid business licence (a planted inconsistency).
            c = self.certs
            closing = who if self.clean else who[rng.random(k) < 0.85]
            lic = np.flatnonzero((c.holder_kind == LEGAL_PERSON) & (c.status == 0) & np.isin(c.holder, closing))
            c.set("status", lic, 1 if cert_event == "revoke" else 2)
            bd = np.full(len(lic), d) if self.clean else lagged(len(lic), 0, 5)
            self._emit_cert(emit, lic, cert_event, bd, bd)

        # Certificate renewals and new driving licences.
        c = self.certs
        cards = np.flatnonzero((c.ctype == CT["id_card"]) & (c.status == 0) & (c.valid_to >= 0))
        k = min(self._poisson(len(cards), "renew", office), len(cards))
        if k:
            who = rng.choice(cards, k, replace=False)
            c.set("valid_from", who, d)
            c.set("valid_to", who, d + 20 * 365)
            self._emit_cert(emit, who, "renew", np.full(k, d), np.full(k, d))
        adults = registered[(ages[registered] >= 18) & (ages[registered] < 70)]
        k = min(self._poisson(len(adults), "driving_issue", office), len(adults))
        if k:
            who = rng.choice(adults, k, replace=False)
            self._issue(emit, "driving_licence", "person", who, np.full(k, d), np.full(k, d + 6 * 365), np.full(k, d))

        self.emit_usage(day, emit)
        self.hotline.day(day, p.id[registered], emit)

    def _leave(self, emit: Emit, people: np.ndarray, bdate: np.ndarray) -> None:
        p = self.persons
        uscc = self.entities.uscc[p.employer[people]]
        p.set("employer", people, -1)
        self._emit_hrss(emit, people, uscc, "leave", np.minimum(bdate, self.today), bdate)

    def _emit_civil(self, emit: Emit, a: np.ndarray, b: np.ndarray, rtype: str, d: int) -> None:
        p = self.persons
        n = len(a)
        emit("civil/marriage_registrations", np.full(n, d), {
            "registration_no": self._ids("HY", d, n), "party1_id_number": p.id[a],
            "party2_id_number": p.id[b], "registration_type": np.full(n, rtype.encode()),
            "registration_date": iso(np.full(n, d)), "district_code": self.dist_codes_b[p.dist[a]],
        })

    def emit_usage(self, day: dt.date, emit: Emit) -> None:
        """Certificate uses of one day, emitted in chunks (the city's largest feed)."""
        rng = self.rng
        d = (day - EPOCH).days
        workday = day_kind(day) == "workday"
        c = self.certs
        valid = np.flatnonzero((c.status == 0) & (c.valid_from <= d) & ((c.valid_to < 0) | (c.valid_to >= d)))
        if not len(valid):
            return
        total = int(rng.poisson(self.scale.residents * self.scale.usage_per_resident_day * (1.0 if workday else 0.55)))
        channels = np.array([b"online", b"mobile", b"counter"])
        cp = np.array([0.5, 0.3, 0.2]) if workday else np.array([0.6, 0.37, 0.03])
        hours_p = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3, 6, 8, 7, 4, 4, 7, 8, 7, 5, 3, 3, 2.5, 2, 1, 0.5])
        for start in range(0, total, self.scale.chunk_rows):
            n = min(self.scale.chunk_rows, total - start)
            cert = valid[rng.integers(0, len(valid), n)]
            secs = rng.choice(24, n, p=hours_p / hours_p.sum()) * 3600 + rng.integers(0, 3600, n)
            kind = c.holder_kind[cert]
            hd = np.where(kind == PERSON, self.persons.dist[np.where(kind == PERSON, c.holder[cert], 0)],
                          self.entities.dist[np.where(kind == LEGAL_PERSON, c.holder[cert], 0)])
            dist = np.where(rng.random(n) < 0.8, hd, self._districts(n))
            emit("dsb/certificate_usage", np.full(n, d), {
                "usage_id": self._ids("YZ", d, n), "certificate_no": c.no[cert],
                "used_at": iso_seconds(d * 86400 + secs),
                "service_code": SERVICES_B[rng.integers(0, len(SERVICES), n)],
                "channel": channels[rng.choice(3, n, p=cp)], "district_code": self.dist_codes_b[dist],
            })


def simulate(city: City, scale: Scale, start: dt.date, days: int, seed: int, emit: Emit, *, clean: bool = False) -> Iterator[dt.date]:
    """Run the world from ``start`` for ``days`` days, yielding each day once it is emitted."""
    world = World(city, scale, start, seed, clean=clean)
    world.build_baseline(emit)
    for i in range(days):
        day = start + dt.timedelta(i)
        world.live_day(day, emit)
        yield day
