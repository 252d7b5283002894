"""The terms (columns) of a review: CUAD's 41 clause categories, each with the question a
lawyer means by it, wording typical of such a clause (what retrieval searches for inside a
document), the kind of value it has, and plain keywords (the baseline that evaluation compares
against). Custom columns are the lawyer's own question; derived columns are computed by code
from other cells.

Descriptions follow CUAD v1's category definitions (The Atticus Project, CC BY 4.0)."""

from __future__ import annotations

from dataclasses import dataclass, field

from desk.core.errors import DeskError

VALUE_TYPES = ("yes-no", "date", "duration", "place", "parties", "title", "text")


@dataclass(frozen=True)
class Term:
    name: str
    kind: str  # "yes-no" | "answer" (CUAD's split), "custom" (the lawyer's question), "derived"
    value_type: str  # one of VALUE_TYPES
    question: str  # what the model is asked
    query: str = ""  # clause-like wording to search for inside the document
    keywords: tuple[str, ...] = field(default=())  # baseline: present if any occurs
    # Word stems (regular expressions) a clause of this kind mentions: the model's cited
    # clause must contain one, as an answer's claim must be in its source. Looser than the
    # keywords on purpose: they only reject a citation that is about something else.
    anchors: tuple[str, ...] = field(default=())

    @property
    def search_text(self) -> str:
        """The term's name as a clause heading, then typical clause wording: contracts head
        their clauses with such names ("11.1 Governing Law and Jurisdiction")."""
        if not self.query:
            return self.question
        return f"{self.name}. {self.query}" if self.kind in ("yes-no", "answer") else self.query


ANCHORS: dict[str, tuple[str, ...]] = {
    "Most Favored Nation": (r"favou?r", r"better\s+terms", r"lower\s+price"),
    "Competitive Restriction Exception": (r"notwithstanding", r"except", r"provided",
                                          r"nothing", r"shall\s+not\s+(?:prevent|restrict|"
                                          r"prohibit|apply)"),
    "Non-Compete": (r"compet",),
    "Exclusivity": (r"exclusiv", r"\bsole(?:ly)?\b", r"\bonly\b"),
    "No-Solicit Of Customers": (r"solicit", r"customer", r"client"),
    "No-Solicit Of Employees": (r"solicit", r"\bhir(?:e|ing)", r"employ"),
    "Non-Disparagement": (r"disparag", r"derogatory", r"defam", r"negative"),
    "Termination For Convenience": (r"terminat",),
    "Rofr/Rofo/Rofn": (r"first\s+(?:refusal|offer|negotiat|right)", r"right\s+of\s+first"),
    "Change Of Control": (r"change\s+(?:of|in)\s+(?:the\s+)?control", r"merge", r"acqui",
                          r"substantially\s+all", r"controlling", r"majority"),
    "Anti-Assignment": (r"assign", r"transfer"),
    "Revenue/Profit Sharing": (r"revenue", r"profit", r"royalt", r"percent", r"%", r"share"),
    "Price Restrictions": (r"pric", r"\bfees?\b", r"\brates?\b"),
    "Minimum Commitment": (r"minimum", r"at\s+least", r"not\s+less\s+than"),
    "Volume Restriction": (r"exceed", r"in\s+excess", r"maximum", r"limit", r"\bcap\b"),
    "Ip Ownership Assignment": (r"assign", r"\bown", r"title", r"property", r"work\s+made"),
    "Joint Ip Ownership": (r"joint", r"co-?own", r"shared"),
    "License Grant": (r"licen[cs]", r"right\s+to\s+use"),
    "Non-Transferable License": (r"transfer", r"sublicen", r"assign"),
    "Affiliate License-Licensor": (r"affiliate",),
    "Affiliate License-Licensee": (r"affiliate",),
    "Unlimited/All-You-Can-Eat-License": (r"unlimited", r"enterprise", r"any\s+number"),
    "Irrevocable Or Perpetual License": (r"irrevocab", r"perpetu"),
    "Source Code Escrow": (r"escrow", r"source\s+code"),
    "Post-Termination Services": (r"terminat", r"expir"),
    "Audit Rights": (r"audit", r"inspect", r"examin", r"\bbooks\b", r"records"),
    "Uncapped Liability": (r"liab", r"limitation", r"exclu"),
    "Cap On Liability": (r"liab", r"exceed", r"limit", r"damages"),
    "Liquidated Damages": (r"liquidated", r"termination\s+fee", r"penalt", r"break\s+fee"),
    "Warranty Duration": (r"warrant",),
    "Insurance": (r"insur",),
    "Covenant Not To Sue": (r"contest", r"challeng", r"\bsue\b", r"claim", r"action"),
    "Third Party Beneficiary": (r"beneficiar",),
}


def _yes_no(name: str, question: str, query: str, *keywords: str) -> Term:
    return Term(name, "yes-no", "yes-no", question, query, keywords, ANCHORS.get(name, ()))


def _answer(name: str, value_type: str, question: str, query: str, *keywords: str) -> Term:
    return Term(name, "answer", value_type, question, query, keywords)


CUAD_TERMS: tuple[Term, ...] = (
    _answer("Document Name", "title", "What is the name (title) of the contract?",
            "THIS AGREEMENT title of the agreement", "agreement"),
    _answer("Parties", "parties", "Who are the parties that signed the contract?",
            "This Agreement is made and entered into by and between Company, a corporation, "
            "and", "between"),
    _answer("Agreement Date", "date", "On what date was the contract made or dated?",
            "This Agreement is made and entered into as of the date dated", "dated"),
    _answer("Effective Date", "date", "On what date does the contract become effective?",
            "effective as of the Effective Date shall mean", "effective date"),
    _answer("Expiration Date", "date",
            "On what date will the contract's initial term expire?",
            "The term of this Agreement shall commence on the Effective Date and continue for a "
            "period of years, expire", "expire", "term of this agreement"),
    _answer("Renewal Term", "duration",
            "What is the renewal term after the initial term expires (automatic extensions, or "
            "unilateral extensions with prior notice)?",
            "shall automatically renew for successive additional renewal terms of one year "
            "unless either party gives notice of non-renewal", "renew"),
    _answer("Notice Period To Terminate Renewal", "duration",
            "What notice period is required to terminate renewal (to prevent the contract from "
            "renewing)?",
            "unless either party gives written notice of its intention not to renew at least "
            "days prior to the expiration of the then-current term", "prior to the expiration"),
    _answer("Governing Law", "place",
            "Which state's or country's law governs the interpretation of the contract?",
            "This Agreement shall be governed by and construed in accordance with the laws of "
            "the State of", "governed by", "governing law"),
    _yes_no("Most Favored Nation",
            "If a third party gets better terms on the licensing or sale of the technology, "
            "goods or services described in the contract, is the buyer under the contract "
            "entitled to those better terms?",
            "prices no less favorable than those offered to any other customer; most favored",
            "most favored", "no less favorable"),
    _yes_no("Competitive Restriction Exception",
            "Is there an exception or carve-out to a non-compete, exclusivity or no-solicit "
            "restriction?",
            "notwithstanding the foregoing restriction, nothing shall prevent a party from",
            "notwithstanding the foregoing", "shall not prevent"),
    _yes_no("Non-Compete",
            "Is a party restricted from competing with the counterparty, or from operating in "
            "a certain geography, business or technology sector?",
            "shall not, directly or indirectly, engage in any business that competes with",
            "compete", "competitive"),
    _yes_no("Exclusivity",
            "Is there an exclusive dealing commitment with the counterparty: buying all "
            "requirements from one party, or a prohibition on licensing or selling to, or "
            "working with, third parties?",
            "appoints as its exclusive distributor; shall not appoint any other; exclusively",
            "exclusive"),
    _yes_no("No-Solicit Of Customers",
            "Is a party restricted from contracting with or soliciting the counterparty's "
            "customers or partners?",
            "shall not solicit or induce any customer or client of the other party",
            "solicit"),
    _yes_no("No-Solicit Of Employees",
            "Is a party restricted from soliciting or hiring the counterparty's employees or "
            "contractors?",
            "shall not solicit for employment or hire any employee of the other party",
            "solicit", "hire"),
    _yes_no("Non-Disparagement",
            "Is a party required not to disparage the counterparty?",
            "shall not make any statement that disparages or is derogatory of the other party",
            "disparag"),
    _yes_no("Termination For Convenience",
            "Can a party terminate the contract without cause, solely by giving notice?",
            "either party may terminate this Agreement at any time for any reason or no reason "
            "upon days prior written notice", "terminate this agreement at any time",
            "for convenience", "without cause"),
    _yes_no("Rofr/Rofo/Rofn",
            "Does a party have a right of first refusal, first offer or first negotiation?",
            "right of first refusal; right of first offer; right of first negotiation",
            "right of first", "first refusal"),
    _yes_no("Change Of Control",
            "Does a party have the right to terminate, or is consent or notice required, if "
            "the counterparty undergoes a change of control (merger, stock sale, sale of all "
            "or substantially all assets)?",
            "change of control; merger, consolidation or sale of all or substantially all of "
            "its assets; acquisition of a majority of voting stock", "change of control",
            "change in control", "merger"),
    _yes_no("Anti-Assignment",
            "Is consent or notice required for a party to assign the contract to a third "
            "party?",
            "Neither party may assign or transfer this Agreement without the prior written "
            "consent of the other party", "assign"),
    _yes_no("Revenue/Profit Sharing",
            "Is a party required to share revenue or profit with the counterparty?",
            "shall pay a percentage of net revenues; royalty; share of profits",
            "royalt", "revenue share", "profit"),
    _yes_no("Price Restrictions",
            "Is there a restriction on a party's ability to raise or reduce prices?",
            "prices shall not be increased during the term; price may not exceed",
            "price increase", "shall not increase"),
    _yes_no("Minimum Commitment",
            "Must a party buy a minimum order size, amount or number of units per period?",
            "shall purchase a minimum quantity of units per year; minimum purchase requirement",
            "minimum"),
    _yes_no("Volume Restriction",
            "Is there a fee increase or a consent requirement if a party's use exceeds a "
            "threshold?",
            "usage in excess of the maximum number of units shall require additional fees",
            "in excess of", "exceed"),
    _yes_no("Ip Ownership Assignment",
            "Does intellectual property created by one party become the property of the "
            "counterparty?",
            "hereby assigns to the other party all right, title and interest in and to all "
            "intellectual property, inventions and work product", "hereby assign",
            "work made for hire"),
    _yes_no("Joint Ip Ownership",
            "Is intellectual property owned jointly by the parties?",
            "shall be jointly owned by the parties; joint ownership of intellectual property",
            "jointly own", "joint ownership"),
    _yes_no("License Grant",
            "Does a party grant a license to its counterparty?",
            "hereby grants a non-exclusive, royalty-free license to use", "license"),
    _yes_no("Non-Transferable License",
            "Is the licensee restricted from transferring the licence to a third party?",
            "a non-transferable, non-sublicensable license", "non-transferable",
            "nontransferable"),
    _yes_no("Affiliate License-Licensor",
            "Is a licence granted by affiliates of the licensor, or does it include "
            "intellectual property of the licensor's affiliates?",
            "licensor and its affiliates hereby grant a license to intellectual property owned "
            "by licensor's affiliates", "affiliates"),
    _yes_no("Affiliate License-Licensee",
            "Is a licence granted to the licensee and the licensee's affiliates?",
            "grants to licensee and its affiliates a license; licensee's affiliates may use",
            "affiliates"),
    _yes_no("Unlimited/All-You-Can-Eat-License",
            "Is there an enterprise, all-you-can-eat or unlimited usage licence?",
            "unlimited number of users; enterprise-wide license; unlimited copies",
            "unlimited"),
    _yes_no("Irrevocable Or Perpetual License",
            "Is there a licence that is irrevocable or perpetual?",
            "a perpetual, irrevocable, worldwide license", "perpetual", "irrevocable"),
    _yes_no("Source Code Escrow",
            "Must a party deposit its source code in escrow with a third party?",
            "deposit the source code with an escrow agent; source code escrow agreement",
            "escrow"),
    _yes_no("Post-Termination Services",
            "Is a party subject to obligations after termination or expiration (transition, "
            "payment, transfer, wind-down, last-buy)?",
            "upon termination or expiration of this Agreement, shall continue to provide; "
            "following termination, transition assistance; sell off remaining inventory",
            "after termination", "upon termination", "following termination"),
    _yes_no("Audit Rights",
            "Does a party have the right to audit the counterparty's books, records or "
            "premises?",
            "shall have the right to inspect and audit the books and records", "audit",
            "inspect"),
    _yes_no("Uncapped Liability",
            "Is a party's liability uncapped for a breach (for example, the cap does not "
            "apply to IP infringement, confidentiality breaches or indemnification)?",
            "the limitation of liability shall not apply to breach of confidentiality, "
            "indemnification obligations, gross negligence or willful misconduct",
            "shall not apply", "unlimited liability"),
    _yes_no("Cap On Liability",
            "Is a party's liability for breach capped at a maximum amount, or limited in the "
            "time in which claims may be brought?",
            "in no event shall the total liability exceed the amount paid or payable under "
            "this Agreement; aggregate liability shall not exceed",
            "limitation of liability", "shall not exceed", "liability"),
    _yes_no("Liquidated Damages",
            "Does the contract award liquidated damages for breach or a fee upon "
            "termination?",
            "shall pay as liquidated damages and not as a penalty; termination fee",
            "liquidated damages", "termination fee"),
    _yes_no("Warranty Duration",
            "Is there a warranty against defects or errors that lasts a stated period?",
            "warrants that the products shall be free from defects for a period of months "
            "from delivery", "warrant"),
    _yes_no("Insurance",
            "Must a party maintain insurance for the benefit of the counterparty?",
            "shall maintain, at its own expense, comprehensive general liability insurance "
            "with coverage of not less than", "insurance"),
    _yes_no("Covenant Not To Sue",
            "Is a party restricted from contesting the counterparty's ownership of "
            "intellectual property, or from bringing claims against the counterparty?",
            "shall not contest or challenge the validity of the other party's ownership of "
            "the trademarks or patents", "contest", "challenge the validity"),
    _yes_no("Third Party Beneficiary",
            "Is a non-party a beneficiary of the contract, able to enforce its rights?",
            "intended third party beneficiaries of this Agreement entitled to enforce",
            "third party beneficiar", "third-party beneficiar"),
)

BY_NAME = {t.name: t for t in CUAD_TERMS}

DERIVED_TERMS: tuple[Term, ...] = (
    Term("Last Day To Give Notice Of Non-Renewal", "derived", "date",
         "Expiration Date − Notice Period To Terminate Renewal"),
    Term("Days Until Expiration", "derived", "text", "Expiration Date − today"),
)
DERIVED_INPUTS = {
    "Last Day To Give Notice Of Non-Renewal": ("Expiration Date",
                                                "Notice Period To Terminate Renewal"),
    "Days Until Expiration": ("Expiration Date",),
}

DEFAULT_TERM_NAMES: tuple[str, ...] = (
    "Document Name", "Parties", "Agreement Date", "Effective Date", "Expiration Date",
    "Renewal Term", "Notice Period To Terminate Renewal", "Governing Law", "Anti-Assignment",
    "Change Of Control", "Termination For Convenience", "Exclusivity", "Non-Compete",
    "Cap On Liability", "Audit Rights", "Insurance",
)


def custom_term(question: str) -> Term:
    """A column the lawyer writes as a question: answered by the model, cited and verified."""
    question = " ".join(question.split())
    if len(question) < 3:
        raise DeskError("A review column needs a question of at least a few words.")
    return Term(question, "custom", "text", question, question)


def resolve_terms(names: list[str] | None) -> list[Term]:
    """Terms by name (CUAD's categories, case-insensitive; derived columns), or the default
    set; anything else is taken as the lawyer's own question."""
    if not names:
        names = list(DEFAULT_TERM_NAMES)
    known = {t.name.casefold(): t for t in (*CUAD_TERMS, *DERIVED_TERMS)}
    terms: list[Term] = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        term = known.get(name.casefold()) or custom_term(name)
        if term not in terms:
            terms.append(term)
    return terms


def with_inputs(terms: list[Term]) -> list[Term]:
    """The terms plus, before them, any term a derived column needs and the list lacks."""
    wanted = list(terms)
    for term in terms:
        for name in DERIVED_INPUTS.get(term.name, ()):
            if BY_NAME[name] not in wanted:
                wanted.insert(0, BY_NAME[name])
    return wanted
