//! FHIRPath syntax: a lexer and a precedence-climbing parser into [`Expr`].
//!
//! Covers the grammar the R4 core constraints are written in (every constraint of
//! hl7.fhir.r4.core 4.0.1 parses): paths, indexers, function calls, `$this`/`$index`,
//! `%variables`, string/number/boolean/date literals, `{}` and every operator from `implies`
//! down to unary minus.

use regex::Regex;
use rust_decimal::Decimal;

use super::Function;

#[derive(Debug, Clone)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Str(String),
    /// `@2020-01-01`, `@2020-01-01T10:00:00Z`: kept as FHIR text.
    Date(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Implies,
    Or,
    Xor,
    And,
    In,
    Contains,
    Equal,
    NotEqual,
    Equivalent,
    NotEquivalent,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Union,
    Plus,
    Minus,
    Concat,
    Times,
    Divide,
    Div,
    Mod,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Empty,
    Literal(Literal),
    This,
    Index,
    Total,
    /// `%resource`, `%ucum`, …
    Variable(String),
    /// A child element of each item of `focus` (or of `$this` when `focus` is `None`).
    Member {
        focus: Option<Box<Expr>>,
        name: String,
        /// The JSON key of a primitive's id and extensions: `_name`.
        shadow: String,
    },
    Call {
        focus: Option<Box<Expr>>,
        function: Function,
        args: Vec<Expr>,
    },
    Indexer(Box<Expr>, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Negate(Box<Expr>),
    /// `x is T` / `x as T` (and the function forms `is(T)`, `as(T)`, `ofType(T)`).
    TypeTest {
        focus: Box<Expr>,
        type_name: String,
        cast: bool,
    },
    /// `matches`/`replaceMatches` with a literal pattern, compiled once.
    Matches {
        focus: Option<Box<Expr>>,
        regex: Regex,
        replacement: Option<Box<Expr>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    /// A `` `delimited` `` identifier: never a keyword.
    Quoted(String),
    Str(String),
    Number(String),
    Date(String),
    Variable(String),
    Special(String),
    Symbol(&'static str),
}

const SYMBOLS: &[&str] = &[
    "!=", "!~", "<=", ">=", ".", "(", ")", "[", "]", "{", "}", ",", "|", "+", "-", "*", "/", "&",
    "=", "~", "<", ">",
];

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '\'' || c == '`' {
            let (body, next) = quoted(&chars, i)?;
            tokens.push(if c == '\'' {
                Token::Str(body)
            } else {
                Token::Quoted(body)
            });
            i = next;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            tokens.push(Token::Number(chars[start..i].iter().collect()));
        } else if c == '@' {
            let start = i + 1;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '-' | ':' | '.' | '+'))
            {
                i += 1;
            }
            tokens.push(Token::Date(chars[start..i].iter().collect()));
        } else if c == '%' || c == '$' {
            i += 1;
            let name = if chars.get(i) == Some(&'`') || chars.get(i) == Some(&'\'') {
                let (body, next) = quoted(&chars, i)?;
                i = next;
                body
            } else {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                chars[start..i].iter().collect()
            };
            tokens.push(if c == '%' {
                Token::Variable(name)
            } else {
                Token::Special(name)
            });
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let symbol = SYMBOLS
                .iter()
                .find(|s| rest.starts_with(**s))
                .ok_or_else(|| format!("unexpected character '{c}'"))?;
            tokens.push(Token::Symbol(symbol));
            i += symbol.chars().count();
        }
    }
    Ok(tokens)
}

/// A `'string'` or `` `identifier` `` starting at `start`, with FHIRPath escapes.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let close = chars[start];
    let mut body = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            c if c == close => return Ok((body, i + 1)),
            '\\' => {
                let escaped = *chars.get(i + 1).ok_or("unterminated escape")?;
                match escaped {
                    'n' => body.push('\n'),
                    'r' => body.push('\r'),
                    't' => body.push('\t'),
                    'f' => body.push('\u{c}'),
                    'u' => {
                        let hex: String =
                            chars.get(i + 2..i + 6).ok_or("bad \\u")?.iter().collect();
                        let code = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                        body.push(char::from_u32(code).ok_or("bad \\u")?);
                        i += 4;
                    }
                    other => body.push(other),
                }
                i += 2;
            }
            c => {
                body.push(c);
                i += 1;
            }
        }
    }
    Err("unterminated string".into())
}

pub fn parse(text: &str) -> Result<Expr, String> {
    let tokens = lex(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.expression(0)?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(token) => Err(format!("unexpected {token:?} after the expression")),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

/// Binding power of an infix operator token (higher binds tighter), FHIRPath §"Operator
/// precedence".
fn infix(token: &Token) -> Option<(u8, Infix)> {
    use BinaryOp::*;
    let op = match token {
        Token::Ident(word) => match word.as_str() {
            "implies" => (1, Infix::Binary(Implies)),
            "or" => (2, Infix::Binary(Or)),
            "xor" => (2, Infix::Binary(Xor)),
            "and" => (3, Infix::Binary(And)),
            "in" => (4, Infix::Binary(In)),
            "contains" => (4, Infix::Binary(Contains)),
            "is" => (8, Infix::Type { cast: false }),
            "as" => (8, Infix::Type { cast: true }),
            "div" => (10, Infix::Binary(Div)),
            "mod" => (10, Infix::Binary(Mod)),
            _ => return None,
        },
        Token::Symbol(symbol) => match *symbol {
            "=" => (5, Infix::Binary(Equal)),
            "!=" => (5, Infix::Binary(NotEqual)),
            "~" => (5, Infix::Binary(Equivalent)),
            "!~" => (5, Infix::Binary(NotEquivalent)),
            "<" => (6, Infix::Binary(Less)),
            "<=" => (6, Infix::Binary(LessOrEqual)),
            ">" => (6, Infix::Binary(Greater)),
            ">=" => (6, Infix::Binary(GreaterOrEqual)),
            "|" => (7, Infix::Binary(Union)),
            "+" => (9, Infix::Binary(Plus)),
            "-" => (9, Infix::Binary(Minus)),
            "&" => (9, Infix::Binary(Concat)),
            "*" => (10, Infix::Binary(Times)),
            "/" => (10, Infix::Binary(Divide)),
            _ => return None,
        },
        _ => return None,
    };
    Some(op)
}

enum Infix {
    Binary(BinaryOp),
    Type { cast: bool },
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn expect(&mut self, symbol: &'static str) -> Result<(), String> {
        match self.next() {
            Some(Token::Symbol(found)) if found == symbol => Ok(()),
            other => Err(format!("expected '{symbol}', found {other:?}")),
        }
    }

    fn expression(&mut self, min_power: u8) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while let Some((power, op)) = self.peek().and_then(infix) {
            if power <= min_power {
                break;
            }
            self.at += 1;
            left = match op {
                Infix::Binary(op) => {
                    let right = self.expression(power)?;
                    Expr::Binary(op, Box::new(left), Box::new(right))
                }
                Infix::Type { cast } => Expr::TypeTest {
                    focus: Box::new(left),
                    type_name: self.type_name()?,
                    cast,
                },
            };
        }
        Ok(left)
    }

    /// `Quantity`, `FHIR.Quantity`, `System.String`: the last part names the type.
    fn type_name(&mut self) -> Result<String, String> {
        let mut name = self.identifier()?;
        while self.peek() == Some(&Token::Symbol(".")) {
            self.at += 1;
            name = self.identifier()?;
        }
        Ok(name)
    }

    fn identifier(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Ident(name) | Token::Quoted(name)) => Ok(name),
            other => Err(format!("expected an identifier, found {other:?}")),
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(Token::Symbol("-")) => {
                self.at += 1;
                Ok(Expr::Negate(Box::new(self.unary()?)))
            }
            Some(Token::Symbol("+")) => {
                self.at += 1;
                self.unary()
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Expr, String> {
        let mut expr = self.term()?;
        loop {
            match self.peek() {
                Some(Token::Symbol(".")) => {
                    self.at += 1;
                    expr = self.invocation(Some(expr))?;
                }
                Some(Token::Symbol("[")) => {
                    self.at += 1;
                    let index = self.expression(0)?;
                    self.expect("]")?;
                    expr = Expr::Indexer(Box::new(expr), Box::new(index));
                }
                _ => return Ok(expr),
            }
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        match self.peek().cloned() {
            Some(Token::Str(text)) => {
                self.at += 1;
                Ok(Expr::Literal(Literal::Str(text)))
            }
            Some(Token::Number(text)) => {
                self.at += 1;
                Ok(Expr::Literal(number(&text)?))
            }
            Some(Token::Date(text)) => {
                self.at += 1;
                Ok(Expr::Literal(Literal::Date(text)))
            }
            Some(Token::Variable(name)) => {
                self.at += 1;
                Ok(Expr::Variable(name))
            }
            Some(Token::Special(name)) => {
                self.at += 1;
                match name.as_str() {
                    "this" => Ok(Expr::This),
                    "index" => Ok(Expr::Index),
                    "total" => Ok(Expr::Total),
                    other => Err(format!("unknown ${other}")),
                }
            }
            Some(Token::Symbol("(")) => {
                self.at += 1;
                let expr = self.expression(0)?;
                self.expect(")")?;
                Ok(expr)
            }
            Some(Token::Symbol("{")) => {
                self.at += 1;
                self.expect("}")?;
                Ok(Expr::Empty)
            }
            Some(Token::Ident(word)) if word == "true" || word == "false" => {
                self.at += 1;
                Ok(Expr::Literal(Literal::Bool(word == "true")))
            }
            Some(Token::Ident(_) | Token::Quoted(_)) => self.invocation(None),
            other => Err(format!("unexpected {other:?}")),
        }
    }

    /// A member name or a function call on `focus`.
    fn invocation(&mut self, focus: Option<Expr>) -> Result<Expr, String> {
        let quoted = matches!(self.peek(), Some(Token::Quoted(_)));
        let name = self.identifier()?;
        let focus = focus.map(Box::new);
        if quoted || self.peek() != Some(&Token::Symbol("(")) {
            let shadow = format!("_{name}");
            return Ok(Expr::Member {
                focus,
                name,
                shadow,
            });
        }
        self.at += 1;
        if matches!(name.as_str(), "is" | "as" | "ofType") {
            let type_name = self.type_name()?;
            self.expect(")")?;
            let this = focus.unwrap_or_else(|| Box::new(Expr::This));
            let filter = Expr::TypeTest {
                focus: Box::new(Expr::This),
                type_name: type_name.clone(),
                cast: name != "is",
            };
            return Ok(match name.as_str() {
                // `ofType(T)` keeps every item of type T; `as(T)` too, as R4's engines do.
                "ofType" | "as" => Expr::Call {
                    focus: Some(this),
                    function: Function::Select,
                    args: vec![filter],
                },
                _ => Expr::TypeTest {
                    focus: this,
                    type_name,
                    cast: false,
                },
            });
        }
        let mut args = Vec::new();
        if self.peek() != Some(&Token::Symbol(")")) {
            loop {
                args.push(self.expression(0)?);
                if self.peek() == Some(&Token::Symbol(",")) {
                    self.at += 1;
                } else {
                    break;
                }
            }
        }
        self.expect(")")?;
        if let ("matches" | "replaceMatches", Some(Expr::Literal(Literal::Str(pattern)))) =
            (name.as_str(), args.first())
        {
            // R4's engines (HL7 Java) test `matches` on the whole string.
            let anchored = if name == "matches" {
                format!("^(?:{pattern})$")
            } else {
                pattern.clone()
            };
            let regex = Regex::new(&anchored).map_err(|e| e.to_string())?;
            let replacement = (name == "replaceMatches")
                .then(|| args.get(1).cloned().map(Box::new))
                .flatten();
            return Ok(Expr::Matches {
                focus,
                regex,
                replacement,
            });
        }
        let function =
            Function::named(&name).ok_or_else(|| format!("unknown function {name}()"))?;
        Ok(Expr::Call {
            focus,
            function,
            args,
        })
    }
}

fn number(text: &str) -> Result<Literal, String> {
    if text.contains('.') {
        text.parse::<Decimal>()
            .map(Literal::Dec)
            .map_err(|e| e.to_string())
    } else {
        text.parse::<i64>()
            .map(Literal::Int)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_follows_the_specification() {
        let expr = parse("a or b and c = d | e").unwrap();
        let Expr::Binary(BinaryOp::Or, _, right) = expr else {
            panic!("or binds loosest: {expr:?}")
        };
        let Expr::Binary(BinaryOp::And, _, right) = *right else {
            panic!("then and")
        };
        let Expr::Binary(BinaryOp::Equal, _, right) = *right else {
            panic!("then =")
        };
        assert!(matches!(*right, Expr::Binary(BinaryOp::Union, _, _)));
    }

    #[test]
    fn strings_numbers_and_quoted_names() {
        assert!(matches!(
            parse("'it\\'s'").unwrap(),
            Expr::Literal(Literal::Str(s)) if s == "it's"
        ));
        assert!(matches!(
            parse("1.50").unwrap(),
            Expr::Literal(Literal::Dec(d)) if d.to_string() == "1.50"
        ));
        assert!(matches!(
            parse("text.`div`").unwrap(),
            Expr::Member { name, .. } if name == "div"
        ));
    }

    #[test]
    fn type_functions_take_a_type_name() {
        assert!(parse("descendants().as(canonical)").is_ok());
        assert!(parse("value.ofType(Quantity).value > 0").is_ok());
        assert!(parse("value is Quantity").is_ok());
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(parse("a.(").is_err());
        assert!(parse("'open").is_err());
        assert!(parse("a.frobnicate()").unwrap_err().contains("frobnicate"));
        assert!(parse("a b").is_err());
    }
}
