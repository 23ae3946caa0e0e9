import TestSupport
import XCTest
@testable import NotebookCore

final class MathTextTests: XCTestCase {
    private func check(_ latex: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(MathText.render(latex), expected, "rendering \(latex)", file: file, line: line)
    }

    /// The input is not rendered at all: the source comes back unchanged.
    private func checkFallback(_ latex: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(MathText.render(latex), latex, "expected fallback for \(latex)", file: file, line: line)
        XCTAssertNil(MathText.tryRender(latex), file: file, line: line)
    }

    // MARK: Symbols

    func testGreekLowercase() {
        check(#"\alpha\beta\gamma\delta\zeta\eta\theta\iota\kappa\lambda\mu\nu\xi\pi\rho\sigma\tau\upsilon\chi\psi\omega"#,
              "αβγδζηθικλμνξπρστυχψω")
        // LaTeX's \epsilon and \phi are the lunate/closed forms; \var... are the open ones.
        check(#"\epsilon \varepsilon \phi \varphi \vartheta"#, "ϵεϕφϑ")
    }

    func testGreekUppercase() {
        check(#"\Gamma\Delta\Theta\Lambda\Xi\Pi\Sigma\Upsilon\Phi\Psi\Omega"#, "ΓΔΘΛΞΠΣΥΦΨΩ")
    }

    func testOperatorsAndRelations() {
        check(#"a \le b \ge c \approx d"#, "a ≤ b ≥ c ≈ d")
        check(#"a \leq b \geq c \neq d \ne e \equiv f \propto g \sim h"#, "a ≤ b ≥ c ≠ d ≠ e ≡ f ∝ g ∼ h")
        check(#"x \in A, y \notin B, A \subset C"#, "x ∈ A, y ∉ B, A ⊂ C")
        check(#"\forall x \exists y"#, "∀x∃y")
        check(#"a \to b \leftarrow c \Rightarrow d"#, "a → b ← c ⇒ d")
        check(#"a \cdot b \times c \pm d \mp e"#, "a · b × c ± d ∓ e")
        check(#"\infty \nabla \partial"#, "∞∇∂")
        check(#"x \rightarrow \infty"#, "x → ∞")
        check(#"\langle q, k \rangle"#, "⟨q, k⟩")
        check(#"\lceil x \rceil + \lfloor y \rfloor"#, "⌈x⌉ + ⌊y⌋")
        check(#"\lVert x \rVert"#, "‖x‖")
        check(#"\|x\|"#, "‖x‖")
        check(#"p(a \mid s)"#, "p(a | s)")
        check(#"\{ x \mid x > 0 \}"#, "{x | x > 0}")
        check(#"a \not= b"#, "a ≠ b")
        check(#"a \not\in B"#, "a ∉ B")
    }

    func testMinusIsAProperMinus() {
        check("a - b", "a − b")
        check("-x", "−x")
        check("a = -b", "a = −b")
        check("a - -b", "a − −b")
        check(#"(-1)"#, "(−1)")
    }

    func testBigOperators() {
        check(#"\sum_{i=1}^{n} x_i"#, "∑ᵢ₌₁ⁿ xᵢ")
        check(#"\prod_i p_i"#, "∏ᵢ pᵢ")
        check(#"\int_0^1 f(x)\,dx"#, "∫₀¹ f(x) dx")
        check(#"\sum\limits_{k} a_k"#, "∑ₖ aₖ")
        check(#"\sum_{n=1}^{\infty} a_n"#, "∑ₙ₌₁^∞ aₙ")
    }

    func testDotsAndSpacing() {
        check(#"x_1, \ldots, x_n"#, "x₁, …, xₙ")
        check(#"1 + \cdots + n"#, "1 + ⋯ + n")
        check(#"a \quad b"#, "a  b")
        check(#"a \qquad b"#, "a    b")
        check(#"a\,b\;c\:d\ e"#, "a b c d e")
        check(#"a\!b"#, "ab")
        check("a~b", "a b")
        check("a   +\n  b", "a + b")
    }

    // MARK: Scripts

    func testUnicodeScripts() {
        check("x_i", "xᵢ")
        check("x^2", "x²")
        check("e^{-x}", "e⁻ˣ")
        check("x_{10}", "x₁₀")
        check("x_{ij}", "xᵢⱼ")
        check("x_i^2", "xᵢ²")
        check("x^2_i", "xᵢ²")
        check(#"\theta^{(t)}"#, "θ⁽ᵗ⁾")
        check("f^{-1}", "f⁻¹")
        check("c^+", "c⁺")
        check("2^{n+1}", "2ⁿ⁺¹")
        check(#"x_{\text{max}}"#, "xₘₐₓ")
        check(#"x^\alpha"#, "xᵅ")
        check(#"y_\beta"#, "yᵦ")
        check(#"\theta'"#, "θ′")
        check("f''(x)", "f″(x)")
        check("x'^2", "x′²")
    }

    func testScriptFallbackToReadableForm() {
        check(#"e^{x_i - m}"#, "e^(xᵢ − m)")
        check(#"x_\theta"#, "x_θ")
        check(#"W^Q"#, "W^Q")
        check(#"\theta_{\text{old}}"#, "θ_(old)")
        check(#"x_{i,j}"#, "x_(i, j)")
        check(#"e^{\log x}"#, "e^(log x)")
        check(#"e^{x^2}"#, "e^(x²)")
        check(#"\lim_{n \to \infty} a_n"#, "lim_(n → ∞) aₙ")
        // A wide script keeps a letter after it from running into it.
        check(#"e^{x_i} y"#, "e^(xᵢ) y")
        check(#"a_j e^{x_i}"#, "aⱼ e^(xᵢ)")
        check(#"e^{x_i}(y)"#, "e^(xᵢ)(y)")
    }

    func testTransposeAndStars() {
        check(#"x^\top"#, "xᵀ")
        check(#"W^{\top} x"#, "Wᵀx")
        check("A^T", "Aᵀ")
        check(#"x^*"#, "x*")
        check(#"A^\dagger"#, "A†")
        check(#"90^\circ"#, "90°")
        // \top on its own is the "true" symbol.
        check(#"\top"#, "⊤")
    }

    func testScriptOnBracketsAndEmptyBase() {
        check(#"\lVert x \rVert_2^2"#, "‖x‖₂²")
        check("(a + b)^2", "(a + b)²")
        check(#"\left( x \right)^2"#, "(x)²")
        check("{}^{14}C", "¹⁴C")
    }

    // MARK: Fractions and roots

    func testFractions() {
        check(#"\frac{1}{2}"#, "1/2")
        check(#"\frac{a+b}{c}"#, "(a + b)/c")
        check(#"\frac{a}{b+c}"#, "a/(b + c)")
        check(#"\frac12"#, "1/2")
        check(#"\frac{x - \mu}{\sigma}"#, "(x − μ)/σ")
        check(#"\frac{1}{1 + e^{-x}}"#, "1/(1 + e⁻ˣ)")
        check(#"\frac{\partial \mathcal{L}}{\partial \theta}"#, "∂ℒ/∂θ")
        check(#"\frac{QK^\top}{\sqrt{d_k}}"#, "QKᵀ/√dₖ")
        check(#"\frac{-1}{2}"#, "−1/2")
        check(#"\frac{1}{-2}"#, "1/(−2)")
        check(#"\frac{1}{2\pi}"#, "1/(2π)")
        check(#"\frac{1}{10}"#, "1/10")
        check(#"\frac{f(x, y)}{\tau}"#, "f(x, y)/τ")
        check(#"\dfrac{a}{b} + \tfrac{c}{d}"#, "a/b + c/d")
        check(#"x = \frac{a}{b}."#, "x = a/b.")
        check(#"x = \frac{a}{b},"#, "x = a/b,")
    }

    func testNestedFractionsAndSpacing() {
        check(#"\frac{\frac{a}{b}}{c}"#, "(a/b)/c")
        check(#"\frac{a}{\frac{b}{c}}"#, "a/(b/c)")
        check(#"\frac{1}{N}\sum_i x_i"#, "1/N ∑ᵢ xᵢ")
        check(#"\frac{1}{2}x"#, "1/2 x")
        check(#"-\frac{1}{2}"#, "−1/2")
        // The argument of a function name is bracketed so it cannot read as (log a)/b.
        check(#"\log \frac{a}{b}"#, "log(a/b)")
        check(#"\frac{\log x}{2}"#, "(log x)/2")
    }

    func testRoots() {
        check(#"\sqrt{x}"#, "√x")
        check(#"\sqrt{x + y}"#, "√(x + y)")
        check(#"\sqrt{2}"#, "√2")
        check(#"\sqrt{2\pi}"#, "√(2π)")
        check(#"\sqrt{\frac{a}{b}}"#, "√(a/b)")
        check(#"\sqrt{x^2 + y^2}"#, "√(x² + y²)")
        check(#"\sqrt[3]{x}"#, "∛x")
        check(#"\sqrt[4]{x}"#, "∜x")
        check(#"\sqrt[n]{x}"#, "ⁿ√x")
        check(#"\sqrt{x} y"#, "√x y")
        check(#"\sqrt x"#, "√x")
        check(#"2\sqrt{x}"#, "2√x")
        check(#"q_i^\top k_j / \sqrt{d}"#, "qᵢᵀkⱼ/√d")
    }

    // MARK: Alphabets, names and text

    func testBlackboardAndCalligraphic() {
        check(#"\mathbb{R}\mathbb{N}\mathbb{Z}\mathbb{Q}\mathbb{E}\mathbb{P}\mathbb{C}"#, "ℝℕℤℚ𝔼ℙℂ")
        check(#"x \in \mathbb{R}^n"#, "x ∈ ℝⁿ")
        check(#"\mathbb{E}_{x \sim p}[f(x)]"#, "𝔼_(x ∼ p)[f(x)]")
        check(#"\mathbb{1}"#, "𝟙")
        check(#"\mathcal{L}\mathcal{N}\mathcal{D}\mathcal{B}"#, "ℒ𝒩𝒟ℬ")
        check(#"\mathfrak{g}"#, "𝔤")
        check(#"\mathbf{x}"#, "𝐱")
        check(#"\mathcal{L}_N"#, "ℒ_N")
    }

    func testFunctionNames() {
        check(#"\log N"#, "log N")
        check(#"\log(x)"#, "log(x)")
        check(#"\exp(-x)"#, "exp(−x)")
        check(#"\max_i x_i"#, "maxᵢ xᵢ")
        check(#"\min(a, b)"#, "min(a, b)")
        check(#"\arg\max_\theta J(\theta)"#, "arg max_θ J(θ)")
        check(#"\sin x + \cos y"#, "sin x + cos y")
        check(#"\tanh(x)"#, "tanh(x)")
        check(#"\log_2 n"#, "log₂ n")
        check(#"a\log b"#, "a log b")
        check(#"-\log p"#, "−log p")
        check(#"\operatorname{softmax}(z)_i"#, "softmax(z)ᵢ")
        check(#"\operatorname*{arg\,max}_x f"#, "arg maxₓ f")
        check(#"\liminf_n a_n"#, "lim infₙ aₙ")
    }

    func testTextAndRoman() {
        check(#"\text{softmax}(x)"#, "softmax(x)")
        check(#"x \text{ if } y"#, "x if y")
        check(#"\text{KL}(p \| q)"#, "KL(p‖q)")
        check(#"\mathrm{d}x"#, "dx")
        check(#"\mathrm{KL}_2"#, "KL₂")
        check(#"\textbf{loss}"#, "loss")
        check(#"\text{a \{b\} c}"#, "a {b} c")
    }

    func testDelimiters() {
        check(#"\left( \frac{a}{b} \right)"#, "(a/b)")
        check(#"\left[ x \right]"#, "[x]")
        check(#"\left\{ x \right\}"#, "{x}")
        check(#"\left| x \right|"#, "|x|")
        check(#"\left. f \right|_0^1"#, "f|₀¹")
        check(#"\left\langle a, b \right\rangle"#, "⟨a, b⟩")
        check(#"\left\lVert x \right\rVert"#, "‖x‖")
        check(#"\bigl( x \bigr)"#, "(x)")
        check(#"\Big[ x \Big]"#, "[x]")
    }

    func testAccents() {
        check(#"\hat{x}"#, "x\u{0302}")
        check(#"\hat x"#, "x\u{0302}")
        check(#"\bar{x}"#, "x\u{0304}")
        check(#"\tilde{x}"#, "x\u{0303}")
        check(#"\dot{x}"#, "x\u{0307}")
        check(#"\ddot{x}"#, "x\u{0308}")
        check(#"\vec{v}"#, "v\u{20D7}")
        check(#"\hat{\theta}_i"#, "θ\u{0302}ᵢ")
        check(#"\overline{xy}"#, "x\u{0305}y\u{0305}")
        XCTAssertEqual(MathText.render(#"\hat{y}"#).count, 1, "an accent is one character on screen")
    }

    func testEscapedBracesAndSymbols() {
        check(#"\{1, 2\}"#, "{1, 2}")
        check(#"50\%"#, "50%")
        check(#"\$5"#, "$5")
        check(#"a \setminus b"#, "a ∖ b")
    }

    func testNestedBraces() {
        check("{{{x}}}", "x")
        check("x^{{2}}", "x²")
        check(#"\frac{{a}+{b}}{{c}}"#, "(a + b)/c")
        check(#"e^{\frac{1}{2}}"#, "e^(1/2)")
        check(#"\sqrt{\sqrt{x}}"#, "√√x")
    }

    func testMiscellaneous() {
        check("", "")
        check("3.14", "3.14")
        check("2x + 1 = 0", "2x + 1 = 0")
        check("f: X \\to Y", "f : X → Y")
        check(#"x := y"#, "x := y")
        check("n!", "n!")
        check(#"a \equiv b \pmod{n}"#, "a ≡ b (mod n)")
        check(#"\binom{n}{k}"#, "(n choose k)")
        check(#"\displaystyle\sum_i x"#, "∑ᵢ x")
        // Characters typed directly keep their class.
        check("a≤b", "a ≤ b")
        check("α·β", "α · β")
    }

    // MARK: Real formulas

    func testInfoNCE() {
        check(#"\mathcal{L} = -\log \frac{e^{f(x, c^+)/\tau}}{\sum_{j=1}^{N} e^{f(x, c_j)/\tau}}"#,
              "ℒ = −log(e^(f(x, c⁺)/τ)/(∑ⱼ₌₁ᴺ e^(f(x, cⱼ)/τ)))")
        check(#"I(X;C) \ge \log N - \mathcal{L}_N"#, "I(X; C) ≥ log N − ℒ_N")
    }

    func testPolicyGradient() {
        check(#"\nabla_\theta \log \pi_\theta(a \mid s)"#, "∇_θ log π_θ(a | s)")
        check(#"\nabla_\theta J(\theta) = \mathbb{E}_{\tau \sim \pi_\theta}\left[\sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t) \hat{A}_t\right]"#,
              "∇_θ J(θ) = 𝔼_(τ ∼ π_θ)[∑ₜ ∇_θ log π_θ(aₜ | sₜ)A\u{0302}ₜ]")
    }

    func testOnlineSoftmax() {
        check(#"m_j = \max(m_{j-1}, \max_i x_i)"#, "mⱼ = max(mⱼ₋₁, maxᵢ xᵢ)")
        check(#"\ell_j = \ell_{j-1} e^{m_{j-1} - m_j} + \sum_i e^{x_i - m_j}"#,
              "ℓⱼ = ℓⱼ₋₁ e^(mⱼ₋₁ − mⱼ) + ∑ᵢ e^(xᵢ − mⱼ)")
        check(#"\operatorname{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}"#,
              "softmax(x)ᵢ = e^(xᵢ)/(∑ⱼ e^(xⱼ))")
    }

    func testReinforcementLearning() {
        check(#"\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)"#, "δₜ = rₜ + γV(sₜ₊₁) − V(sₜ)")
        check(#"G_t = \sum_{k=0}^{\infty} \gamma^k r_{t+k+1}"#, "Gₜ = ∑ₖ₌₀^∞ γᵏrₜ₊ₖ₊₁")
        check(#"\min\left(r_t \hat{A}_t, \text{clip}(r_t, 1 - \epsilon, 1 + \epsilon)\hat{A}_t\right)"#,
              "min(rₜA\u{0302}ₜ, clip(rₜ, 1 − ϵ, 1 + ϵ)A\u{0302}ₜ)")
    }

    func testAttentionAndGaussian() {
        check(#"\mathrm{Attention}(Q, K, V) = \operatorname{softmax}\left(\frac{QK^\top}{\sqrt{d_k}}\right) V"#,
              "Attention(Q, K, V) = softmax(QKᵀ/√dₖ)V")
        check(#"p(x) = \frac{1}{\sqrt{2\pi\sigma^2}} \exp\left(-\frac{(x-\mu)^2}{2\sigma^2}\right)"#,
              "p(x) = 1/√(2πσ²) exp(−(x − μ)²/(2σ²))")
        check(#"\sigma(x) = \frac{1}{1 + e^{-x}}, \quad \log \sigma(x) = -\log(1 + e^{-x})"#,
              "σ(x) = 1/(1 + e⁻ˣ),  log σ(x) = −log(1 + e⁻ˣ)")
    }

    // MARK: Fallbacks

    func testFallbackToSource() {
        checkFallback(#"\unknowncommand x"#)
        checkFallback(#"\frac{a}{b"#)
        checkFallback(#"x^{2"#)
        checkFallback("a}")
        checkFallback("x^")
        checkFallback("x_")
        checkFallback(#"x^2^3"#)
        checkFallback(#"x_1_2"#)
        checkFallback(#"\frac{a}"#)
        checkFallback(#"\sqrt"#)
        checkFallback("\\")
        checkFallback(#"a \\ b"#)
        checkFallback(#"\begin{pmatrix} a & b \end{pmatrix}"#)
        checkFallback("a & b")
        checkFallback("50% off")
        checkFallback(#"\left x"#)
        checkFallback(#"\hat{}"#)
        checkFallback(#"\text{\foo}"#)
        checkFallback(#"\text{abc"#)
        checkFallback(#"\sqrt[\infty]{x}"#)
    }

    func testDeepNestingFallsBackInsteadOfOverflowing() {
        let deep = String(repeating: "{", count: 5000) + "x" + String(repeating: "}", count: 5000)
        XCTAssertEqual(MathText.render(deep), deep)
        let hats = String(repeating: #"\hat"#, count: 5000) + "x"
        XCTAssertEqual(MathText.render(hats), hats)
        let scripts = String(repeating: "x^{", count: 5000) + "x" + String(repeating: "}", count: 5000)
        XCTAssertEqual(MathText.render(scripts), scripts)
        // Moderate nesting still renders.
        XCTAssertEqual(MathText.render(String(repeating: "{", count: 10) + "x" + String(repeating: "}", count: 10)), "x")
    }

    // MARK: Inline Markdown

    func testInlineSpans() {
        XCTAssertEqual(MathText.renderInline(#"The loss $\mathcal{L}$ uses $\tau = 0.1$."#),
                       "The loss ℒ uses τ = 0.1.")
        XCTAssertEqual(MathText.renderInline(#"Display: $$\sum_i x_i$$ done."#), "Display: ∑ᵢ xᵢ done.")
        XCTAssertEqual(MathText.renderInline("$x$"), "x")
        XCTAssertEqual(MathText.renderInline("$$\n\\frac{1}{2}\n$$"), "1/2")
        XCTAssertEqual(MathText.renderInline("no math here"), "no math here")
        XCTAssertEqual(MathText.renderInline(""), "")
    }

    func testInlineDollarsThatAreNotMath() {
        XCTAssertEqual(MathText.renderInline(#"It costs \$5, or \$10 with $x_i$."#), "It costs $5, or $10 with xᵢ.")
        XCTAssertEqual(MathText.renderInline("between $5 and $10"), "between $5 and $10")
        XCTAssertEqual(MathText.renderInline("a lone $ sign"), "a lone $ sign")
        XCTAssertEqual(MathText.renderInline("$ x$"), "$ x$")
        XCTAssertEqual(MathText.renderInline("$x $"), "$x $")
        XCTAssertEqual(MathText.renderInline("unclosed $x"), "unclosed $x")
        XCTAssertEqual(MathText.renderInline("unclosed $$x"), "unclosed $$x")
        XCTAssertEqual(MathText.renderInline("$a\n\nb$"), "$a\n\nb$")
        XCTAssertEqual(MathText.renderInline("$a\nb$"), "ab")
        // A search that failed before a blank line does not hide math after it.
        XCTAssertEqual(MathText.renderInline("$a $b\n\n$c$ $$d"), "$a $b\n\nc $$d")
        XCTAssertEqual(MathText.renderInline("$$a\n\n$$b$$"), "$$a\n\nb")
        let prices = String(repeating: "$5 and $x ", count: 5000)
        XCTAssertEqual(MathText.renderInline(prices), prices)
    }

    func testInlineCodeSpansAreLeftAlone() {
        XCTAssertEqual(MathText.renderInline("`$x_i$` but $x_i$"), "`$x_i$` but xᵢ")
        XCTAssertEqual(MathText.renderInline("``a ` $x$ ``, $y$"), "``a ` $x$ ``, y")
        XCTAssertEqual(MathText.renderInline("`unclosed $x$"), "`unclosed x")
        XCTAssertEqual(MathText.renderInline(#"`\$` and $\alpha$"#), #"`\$` and α"#)
    }

    func testInlineBacktickDollarForm() {
        XCTAssertEqual(MathText.renderInline("so $`x_i^2`$ here"), "so xᵢ² here")
        XCTAssertEqual(MathText.renderInline("$`a < b`$"), "a < b")
        XCTAssertEqual(MathText.renderInline(#"$`\foo`$ stays"#), #"$`\foo`$ stays"#)
        XCTAssertEqual(MathText.renderInline("$`unclosed"), "$`unclosed")
        let openers = String(repeating: "$` ", count: 5000)
        XCTAssertEqual(MathText.renderInline(openers), openers)
    }

    func testInlineEscapes() {
        XCTAssertEqual(MathText.renderInline(#"$a \$ b$"#), "a$b")
        XCTAssertEqual(MathText.renderInline(#"\\$x$"#), #"\\x"#)
        XCTAssertEqual(MathText.renderInline(#"a \* b"#), #"a \* b"#)
    }

    func testInlineFallbackKeepsDelimiters() {
        XCTAssertEqual(MathText.renderInline(#"see $\foo{x}$ and $y$"#), #"see $\foo{x}$ and y"#)
        XCTAssertEqual(MathText.renderInline(#"$$\begin{aligned} a \end{aligned}$$"#),
                       #"$$\begin{aligned} a \end{aligned}$$"#)
    }

    // MARK: Fuzz

    func testFuzzNeverCrashesAndAlwaysReturns() {
        let pieces = [
            "\\frac", "\\sqrt", "\\left(", "\\right)", "\\left", "\\right", "{", "}", "{", "}", "^", "_",
            "'", "x", "2", "10", "+", "-", "=", " ", "\\", "$", "$$", "`", "\\$", "\\text{", "\\mathbb",
            "\\hat", "\\sum", "\\log", "\\alpha", "\\,", "\\quad", "[", "]", "(", ")", "|", "\\|", "&",
            "%", "\\\\", "\\not", "\\operatorname", "\\big", "\\{", "\\}", "\n", "\n\n", "é", "\u{0301}",
            "∑", "\\unknown", "\\mathcal", "\\binom", "\\limits", "\\sqrt[", ",", ";", "\\top", "~",
        ]
        // Pieces that are valid on their own, so that many inputs get past the parser and
        // exercise layout rather than failing at the first `&`.
        let gentle = [
            "\\frac", "\\sqrt", "{", "}", "^", "_", "'", "x", "2", "+", "-", " ", "\\left(", "\\right)",
            "\\hat", "\\sum", "\\log", "\\alpha", "\\,", "(", ")", "\\text{a}", "\\mathbb", "\\not",
            "\\top", "\\cdot", "=", ",", "\\ldots", "\\operatorname", "[", "]", "\\sqrt[",
        ]
        var rng = TestRandom(seed: 0x5eed)
        var renderedCount = 0
        for iteration in 0..<4000 {
            let alphabet = iteration.isMultiple(of: 2) ? pieces : gentle
            let length = Int(rng.next() % 24)
            var input = ""
            for _ in 0..<length {
                input += alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            if MathText.tryRender(input) != nil { renderedCount += 1 }
            let rendered = MathText.render(input)
            XCTAssertLessThanOrEqual(rendered.unicodeScalars.count, 8 * input.unicodeScalars.count + 8, input)
            XCTAssertEqual(MathText.render(input), rendered, "rendering is deterministic")
            let inline = MathText.renderInline(input)
            if !input.unicodeScalars.contains("$") {
                XCTAssertEqual(inline, input, "prose without dollars is untouched")
            }
            _ = MathText.renderInline("$" + input + "$ and $$" + input + "$$")
        }
        XCTAssertGreaterThan(renderedCount, 400, "the fuzz should reach the layout code, not only fail early")
    }
}

final class MathFractionTests: XCTestCase {
    func testMultiFactorDenominatorsAreBracketed() {
        XCTAssertEqual(MathText.render(#"\frac{p_j - y_j}{\tau B}"#), "(pⱼ − yⱼ)/(τB)")
        XCTAssertEqual(MathText.render(#"\frac{p(x, y)}{p(x) p(y)}"#), "p(x, y)/(p(x)p(y))")
        XCTAssertEqual(MathText.render(#"\frac{a}{p(x)}"#), "a/p(x)")
        XCTAssertEqual(MathText.render(#"\frac{1}{\sqrt{d}}"#), "1/√d")
        XCTAssertEqual(MathText.render(#"\frac{a}{b_i}"#), "a/bᵢ")
    }
}
