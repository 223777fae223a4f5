package io.backplane.toolstack.config;

import org.xml.sax.Attributes;
import org.xml.sax.InputSource;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.helpers.DefaultHandler;

import javax.xml.XMLConstants;
import javax.xml.parsers.SAXParserFactory;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A minimal XML tree that remembers the line of each element, so a refusal can point at it
 * (the JDK's DOM forgets lines). Built with SAX with DTDs refused: a domain XML never needs
 * one, and refusing them rules out entity expansion tricks.
 */
record XmlElement(String name, Map<String, String> attributes, List<XmlElement> children, StringBuilder text,
                  int line) {

    static XmlElement parse(String source, String xml) {
        try {
            SAXParserFactory f = SAXParserFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            Builder b = new Builder();
            f.newSAXParser().parse(new InputSource(new StringReader(xml)), b);
            return b.root;
        } catch (SAXParseException e) {
            throw new ConfigException(source, e.getLineNumber(), "not well-formed XML: " + e.getMessage());
        } catch (SAXException | java.io.IOException | javax.xml.parsers.ParserConfigurationException e) {
            throw new ConfigException(source, 0, "cannot read XML: " + e.getMessage());
        }
    }

    List<XmlElement> all(String child) {
        return children.stream().filter(c -> c.name.equals(child)).toList();
    }

    Optional<XmlElement> child(String child) {
        return children.stream().filter(c -> c.name.equals(child)).findFirst();
    }

    Optional<String> attr(String a) {
        return Optional.ofNullable(attributes.get(a));
    }

    String trimmedText() {
        return text.toString().trim();
    }

    private static final class Builder extends DefaultHandler {
        private final List<XmlElement> stack = new ArrayList<>();
        private Locator locator;
        private XmlElement root;

        @Override
        public void setDocumentLocator(Locator locator) {
            this.locator = locator;
        }

        @Override
        public void startElement(String uri, String localName, String qName, Attributes atts) {
            Map<String, String> a = new LinkedHashMap<>();
            for (int i = 0; i < atts.getLength(); i++) {
                a.put(atts.getQName(i), atts.getValue(i));
            }
            XmlElement e = new XmlElement(qName, a, new ArrayList<>(), new StringBuilder(),
                    locator == null ? 0 : locator.getLineNumber());
            if (stack.isEmpty()) {
                root = e;
            } else {
                stack.get(stack.size() - 1).children.add(e);
            }
            stack.add(e);
        }

        @Override
        public void endElement(String uri, String localName, String qName) {
            stack.remove(stack.size() - 1);
        }

        @Override
        public void characters(char[] ch, int start, int length) {
            if (!stack.isEmpty()) {
                stack.get(stack.size() - 1).text.append(ch, start, length);
            }
        }
    }
}
